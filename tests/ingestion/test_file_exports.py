"""Inbox and CRM exports from a folder: validated rows land, broken rows are quarantined with
file, line and reason, only new files are read, and the latest version of a row wins.

Export files live in ``tests/fixtures/exports`` and hold one example of each typical break.
"""

from __future__ import annotations

import csv
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion import pipelines

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exports"
CSV_FILE = "inbox_export_2026-09-01.csv"
JSONL_FILE = "inbox_export_2026-09-02.jsonl"
HEADER = "message_id,platform,account_id,team,assignee,tags,briefing,status,received_at,closed_at"


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def records_in(folder: Path) -> int:
    """Records in the export files, counted without the source's reader."""
    total = 0
    for path in folder.iterdir():
        if path.suffix == ".jsonl":
            total += sum(1 for line in path.read_bytes().splitlines() if line.strip())
        elif path.suffix == ".csv":
            rows = list(csv.reader(path.read_bytes().decode("latin-1").splitlines(True)))
            total += len(rows) - 1
    return total


@pytest.fixture
def inbox(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    folder = tmp_path / "inbox"
    shutil.copytree(FIXTURES / "inbox", folder)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    return folder


def test_rows_in_the_files_equal_rows_loaded_plus_rows_quarantined(
        inbox: Path, isolated_env: Path) -> None:
    pipelines.run("inbox")
    loaded = query(isolated_env, "select count(*) from raw_inbox.inbox_messages")[0][0]
    quarantined = query(isolated_env,
                        "select count(*) from raw_inbox.inbox_messages_quarantine")[0][0]
    assert loaded > 0 and quarantined > 0
    assert loaded + quarantined == records_in(inbox)


def test_each_broken_row_is_quarantined_with_file_line_and_reason(
        inbox: Path, isolated_env: Path) -> None:
    pipelines.run("inbox")
    rows = query(isolated_env, "select source_file, source_line, reason, raw_row "
                               "from raw_inbox.inbox_messages_quarantine")
    reasons = {(f, line): reason for f, line, reason, _ in rows}
    assert reasons == {
        (CSV_FILE, 3): "missing message_id",
        (CSV_FILE, 4): "received_at is not an ISO-8601 time: 'yesterday afternoon'",
        (CSV_FILE, 5): "expected 10 fields, found 8",
        (CSV_FILE, 6): "not valid UTF-8",
        (JSONL_FILE, 2): reasons.get((JSONL_FILE, 2), "missing"),
        (JSONL_FILE, 3): "not a JSON object",
        (JSONL_FILE, 4): "missing platform",
    }
    assert reasons[(JSONL_FILE, 2)].startswith("invalid JSON")
    raw = {(f, line): text for f, line, _, text in rows}
    assert raw[(CSV_FILE, 6)].startswith("222_3_10,facebook") and "\\xfc" in raw[(CSV_FILE, 6)]


def test_valid_rows_keep_their_origin_and_times_land_in_utc(
        inbox: Path, isolated_env: Path) -> None:
    pipelines.run("inbox")
    rows = query(isolated_env, "select message_id, _source_file, _source_line, briefing, "
                               "received_at from raw_inbox.inbox_messages order by message_id")
    by_id = {r[0]: r[1:] for r in rows}
    assert set(by_id) == {"1790000000000000003", "222_3_12", "9003", "m_1", "m_5"}
    assert by_id["222_3_12"][:3] == (CSV_FILE, 7, "Two lines of briefing:\nshe now recommends us")
    assert by_id["9003"][3].astimezone(UTC) == datetime(2026, 9, 1, 14, 0, tzinfo=UTC)
    extra = query(isolated_env, "select sentiment_hint from raw_inbox.inbox_messages "
                                "where message_id = 'm_5'")
    assert extra == [("positive",)]  # an unknown column is kept, not dropped


def _drop(folder: Path, name: str, rows: list[str], modified: float) -> None:
    path = folder / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    os.utime(path, (modified, modified))


def test_next_night_reads_only_new_files_and_the_redelivered_row_wins(
        inbox: Path, isolated_env: Path) -> None:
    pipelines.run("inbox")
    before = query(isolated_env, "select count(*) from raw_inbox.inbox_messages")[0][0]
    later = max(p.stat().st_mtime for p in inbox.iterdir()) + 60
    _drop(inbox, "inbox_export_2026-09-03.csv", [
        "9003,mastodon,444,support,agent_04,,Answered,closed,2026-09-01T14:00:00Z,"
        "2026-09-03T08:00:00Z",
        "9004,mastodon,444,support,,,,open,2026-09-03T09:00:00Z,",
    ], later)
    pipelines.run("inbox")
    latest_load = "(select max(_dlt_load_id) from raw_inbox.inbox_messages)"
    assert query(isolated_env, "select count(*) from raw_inbox.inbox_messages "
                               f"where _dlt_load_id = {latest_load}") == [(2,)]
    assert query(isolated_env, "select count(*) from raw_inbox.inbox_messages")[0][0] == before + 1
    assert query(isolated_env, "select status, _source_file from raw_inbox.inbox_messages "
                               "where message_id = '9003'") == [
        ("closed", "inbox_export_2026-09-03.csv")]


def test_of_one_message_in_two_files_of_one_night_the_newer_file_wins(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    folder = tmp_path / "drop"
    folder.mkdir()
    row = "m_7,facebook,222,support,agent_01,,,{status},2026-09-02T09:00:00Z,"
    # The newer export sorts first by name: its modification time decides, not its name.
    _drop(folder, "a_newer.csv", [row.format(status="closed")], 2_000_000_000)
    _drop(folder, "b_older.csv", [row.format(status="open")], 1_900_000_000)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    pipelines.run("inbox")
    assert query(isolated_env, "select status from raw_inbox.inbox_messages") == [("closed",)]


def test_crm_quarantines_per_table_and_reconciles(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCES__CRM__BUCKET_URL", (FIXTURES / "crm").as_uri())
    pipelines.run("crm")
    counts = {t: query(isolated_env, f"select count(*) from raw_crm.{t}")[0][0]
              for t in ("contacts", "contacts_quarantine", "lifecycle_stages",
                        "lifecycle_stages_quarantine")}
    assert counts == {"contacts": 2, "contacts_quarantine": 1, "lifecycle_stages": 2,
                      "lifecycle_stages_quarantine": 1}
    assert counts["contacts"] + counts["contacts_quarantine"] + counts["lifecycle_stages"] + \
        counts["lifecycle_stages_quarantine"] == records_in(FIXTURES / "crm")
    assert query(isolated_env, "select reason from raw_crm.contacts_quarantine") == [
        ("updated_at is not an ISO-8601 time: '02/09/2026'",)]
