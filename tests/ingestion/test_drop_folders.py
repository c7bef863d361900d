"""Drop folders read only what they should, and find new files by name and content.

Real folders in tmp, read through the real pipeline (``pipelines.run``): a symbolic link to a
file or a folder outside the drop folder is refused with a quarantine row naming it (never its
content); a new export with an old modification time (``cp -p``, ``touch -d``) is read; a file
dropped again unchanged is not; a file rewritten in place with its old modification time is.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ingestion import pipelines
from tests.conftest import query
from tests.ingestion.test_file_exports import FIXTURES, HEADER, records_in

SECRET = "outside-the-folder: private note 7f3a"
OUTSIDE_ROW = f"o_1,x,111,support,agent_01,,{SECRET},open,2026-09-01T10:00:00Z,"
LONG_AGO = 1_000_000_000  # 2001-09-09: older than any load


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the drop folder holding an export-looking file with private text."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "private.csv").write_text(f"{HEADER}\n{OUTSIDE_ROW}\n", encoding="utf-8")
    return folder


def everything_loaded(warehouse: Path) -> str:
    """Every value of every raw inbox table, as text."""
    tables = query(warehouse, "select table_name from information_schema.tables "
                              "where table_schema = 'raw_inbox'")
    return repr([query(warehouse, f'select * from raw_inbox."{t}"') for (t,) in tables])


def counts(warehouse: Path) -> tuple[int, int]:
    return (query(warehouse, "select count(*) from raw_inbox.inbox_messages")[0][0],
            query(warehouse, "select count(*) from raw_inbox.inbox_messages_quarantine")[0][0])


def refusals(warehouse: Path) -> dict[str, tuple[int, str, str]]:
    rows = query(warehouse, "select source_file, source_line, raw_row, reason from "
                            "raw_inbox.inbox_messages_quarantine where reason like 'not read:%'")
    return {f: (line, raw, reason) for f, line, raw, reason in rows}


def rows_in_last_load(warehouse: Path) -> list[tuple]:
    return query(warehouse, "select message_id, _source_file from raw_inbox.inbox_messages "
                            "where _dlt_load_id = (select max(load_id) from "
                            "raw_inbox._dlt_loads) order by 1")


def drop(folder: Path, name: str, *rows: str, modified: float | None = None) -> Path:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    if modified is not None:
        os.utime(path, (modified, modified))
    return path


def test_a_symlink_to_a_file_outside_is_refused_and_its_text_never_lands(
        inbox: Path, outside: Path, isolated_env: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    (inbox / "inbox_export_link.csv").symlink_to(outside / "private.csv")
    pipelines.run("inbox")
    assert SECRET not in everything_loaded(isolated_env)
    assert refusals(isolated_env) == {"inbox_export_link.csv": (
        0, "", "not read: a symbolic link; only regular files inside the folder are read")}
    assert "refused 'inbox_export_link.csv'" in caplog.text and SECRET not in caplog.text
    # rows in the regular files = rows loaded + rows quarantined, the link one row of its own
    loaded, quarantined = counts(isolated_env)
    assert loaded + quarantined == records_in(FIXTURES / "inbox") + 1


def test_a_symlink_to_a_folder_outside_is_refused_and_nothing_through_it_is_read(
        inbox: Path, outside: Path, isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (inbox / "more").symlink_to(outside, target_is_directory=True)
    (inbox / "archive").mkdir()  # a real sub-folder: read through a recursive glob
    drop(inbox / "archive", "inbox_export_old.csv",
         "a_1,x,111,support,,,,open,2026-09-01T10:00:00Z,")
    link = (0, "", "not read: a symbolic link; only regular files inside the folder are read")
    pipelines.run("inbox")  # the default glob '*' matches the link itself
    assert refusals(isolated_env) == {"more": link}
    monkeypatch.setenv("SOURCES__INBOX__FILE_GLOB", "**/*.csv")
    pipelines.run("inbox")  # a recursive glob reaches the files behind it
    assert SECRET not in everything_loaded(isolated_env)
    assert refusals(isolated_env) == {
        "more": link,
        "more/private.csv": (0, "", "not read: inside 'more', a symbolic link; only regular "
                                    "files inside the folder are read")}
    assert query(isolated_env, "select _source_file from raw_inbox.inbox_messages "
                               "where message_id = 'a_1'") == [("inbox_export_old.csv",)]


def test_a_fifo_is_refused_not_waited_on(inbox: Path, isolated_env: Path) -> None:
    os.mkfifo(inbox / "inbox_export_pipe.csv")
    pipelines.run("inbox")  # opening a FIFO for reading would block the night for ever
    assert refusals(isolated_env) == {"inbox_export_pipe.csv": (
        0, "", "not read: not a regular file (FIFO, socket or device)")}


def test_a_new_file_with_an_old_modification_time_is_read(
        inbox: Path, isolated_env: Path, tmp_path: Path) -> None:
    pipelines.run("inbox")
    before = counts(isolated_env)
    # cp -p: the copy keeps the modification time of an export older than the last load
    staged = drop(tmp_path, "inbox_export_2026-09-03.csv",
                  "p_1,mastodon,444,support,,,,open,2026-09-03T09:00:00Z,", modified=LONG_AGO)
    shutil.copy2(staged, inbox / staged.name)
    assert (inbox / staged.name).stat().st_mtime == LONG_AGO
    # touch -d into the past
    drop(inbox, "inbox_export_2026-09-04.csv",
         "t_1,mastodon,444,support,,,,open,2026-09-04T09:00:00Z,", modified=LONG_AGO - 86400)
    pipelines.run("inbox")
    assert rows_in_last_load(isolated_env) == [("p_1", "inbox_export_2026-09-03.csv"),
                                               ("t_1", "inbox_export_2026-09-04.csv")]
    assert counts(isolated_env) == (before[0] + 2, before[1])


def test_a_file_dropped_again_unchanged_is_not_read_again(
        inbox: Path, isolated_env: Path, tmp_path: Path) -> None:
    pipelines.run("inbox")
    loads = query(isolated_env, "select count(*) from raw_inbox._dlt_loads")[0][0]
    for path in list(inbox.iterdir()):  # the same exports delivered again: new mtime, same bytes
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        path.unlink()
        shutil.copy(copy, path)
        os.utime(path, (2_000_000_000, 2_000_000_000))
    pipelines.run("inbox")
    new_rows = query(isolated_env, "select count(*) from raw_inbox.inbox_messages where "
                                   "_dlt_load_id > (select min(load_id) from raw_inbox._dlt_loads)")
    assert new_rows == [(0,)]
    assert query(isolated_env, "select count(*) from raw_inbox.inbox_messages_quarantine where "
                               "_dlt_load_id > (select min(load_id) from raw_inbox._dlt_loads)"
                 ) == [(0,)]
    assert query(isolated_env, "select count(*) from raw_inbox._dlt_loads")[0][0] == loads + 1


def test_a_file_rewritten_in_place_with_its_old_time_and_size_is_read_again(
        inbox: Path, isolated_env: Path) -> None:
    """Its rows replace the earlier version's by primary key (the later load wins)."""
    row = "r_1,x,111,support,{},,,open,2026-09-05T09:00:00Z,"
    path = drop(inbox, "inbox_export_2026-09-05.csv", row.format("aa"),
                "r_2,x,111,support,,,,open,2026-09-05T09:05:00Z,", modified=LONG_AGO)
    pipelines.run("inbox")
    size = path.stat().st_size
    drop(inbox, path.name, row.format("bb"), "r_2,x,111,support,,,,open,2026-09-05T09:05:00Z,",
         modified=LONG_AGO)
    assert (path.stat().st_size, path.stat().st_mtime) == (size, LONG_AGO)
    pipelines.run("inbox")
    assert rows_in_last_load(isolated_env) == [("r_1", path.name), ("r_2", path.name)]
    assert query(isolated_env, "select message_id, assignee from raw_inbox.inbox_messages "
                               "where message_id like 'r\\_%' escape '\\' order by 1") == [
        ("r_1", "bb"), ("r_2", None)]


def test_a_file_fixed_in_place_loses_the_quarantine_rows_of_its_old_version(
        inbox: Path, isolated_env: Path) -> None:
    """A changed file is read again whole: a line it no longer breaks leaves the quarantine
    (and loads), a line it still breaks stays there, so rows in = loaded + quarantined."""
    path = drop(inbox, "inbox_export_2026-09-06.csv",
                "f_1,x,111,support,,,,open,2026-09-06T09:00:00Z,",
                "f_2,x,111,support,,,,open,yesterday,",
                "f_3,x,111,support,,,,open,last week,")
    pipelines.run("inbox")
    in_file = "where _source_file = 'inbox_export_2026-09-06.csv'"
    quarantine = ("select source_line, reason from raw_inbox.inbox_messages_quarantine "
                  "where source_file = 'inbox_export_2026-09-06.csv' order by 1")
    assert [line for line, _ in query(isolated_env, quarantine)] == [3, 4]
    drop(inbox, path.name, "f_1,x,111,support,,,,open,2026-09-06T09:00:00Z,",
         "f_2,x,111,support,,,,open,2026-09-06T09:30:00Z,",
         "f_3,x,111,support,,,,open,last week,")
    pipelines.run("inbox")
    assert query(isolated_env, quarantine) == [
        (4, "received_at is not an ISO-8601 time: 'last week'")]
    assert query(isolated_env, "select message_id from raw_inbox.inbox_messages "
                               f"{in_file} order by 1") == [("f_1",), ("f_2",)]
    assert counts(isolated_env)[0] + counts(isolated_env)[1] == records_in(inbox)
