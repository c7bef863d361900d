"""Inbox and CRM exports from a folder: validated rows land, broken rows are quarantined with
file, line and reason, only new files are read, and the latest version of a row wins.

Export files live in ``tests/fixtures/exports`` and hold one example of each typical break.
"""

from __future__ import annotations

import codecs
import csv
import os
import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingestion import pipelines
from ingestion.sources import crm, files
from ingestion.sources.inbox import inbox_table
from tests.conftest import query

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exports"
CSV_FILE = "inbox_export_2026-09-01.csv"
JSONL_FILE = "inbox_export_2026-09-02.jsonl"
HEADER = "message_id,platform,account_id,team,assignee,tags,briefing,status,received_at,closed_at"


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
                        "lifecycle_stages_quarantine", "conversions", "conversions_quarantine")}
    assert counts == {"contacts": 2, "contacts_quarantine": 1, "lifecycle_stages": 2,
                      "lifecycle_stages_quarantine": 1, "conversions": 2,
                      "conversions_quarantine": 1}
    assert sum(counts.values()) == records_in(FIXTURES / "crm")
    assert query(isolated_env, "select reason from raw_crm.contacts_quarantine") == [
        ("updated_at is not an ISO-8601 time: '02/09/2026'",)]
    assert query(isolated_env, "select reason from raw_crm.conversions_quarantine") == [
        ("kind is not one of lead, conversion: 'purchase'",)]
    assert query(isolated_env, "select conversion_id, kind, source, source_platform, campaign "
                               "from raw_crm.conversions order by 1") == [
        ("V1", "lead", "social", "x", "autumn-launch"), ("V2", "conversion", "web", None, None)]


@pytest.mark.parametrize("source,tables", [("inbox", (inbox_table(),)), ("crm", crm.TABLES)])
def test_a_first_night_without_files_creates_the_tables_with_their_declared_columns(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, source: str,
        tables: tuple[files.ExportTable, ...]) -> None:
    """dbt staging and the quality checks need the raw tables before the first export lands;
    the next night's files load into them with the same column types."""
    folder = tmp_path / source
    folder.mkdir()
    monkeypatch.setenv(f"SOURCES__{source.upper()}__BUCKET_URL", folder.as_uri())
    pipelines.run(source)

    def columns(table: str) -> dict[str, str]:
        return dict(query(isolated_env, "select column_name, data_type from "
                                        "information_schema.columns where table_schema = "
                                        f"'raw_{source}' and table_name = '{table}' "
                                        "and column_name not like '\\_dlt%' escape '\\'"))

    empty = {table.name: columns(table.name) for table in tables}
    for table in tables:
        assert query(isolated_env, f"select count(*) from raw_{source}.{table.name}") == [(0,)]
        assert list(empty[table.name]) == list(table.declared_columns())
        assert {c for c, t in empty[table.name].items() if t.startswith("TIMESTAMP")} == \
            set(table.timestamps)

    for path in (FIXTURES / source).iterdir():
        shutil.copy(path, folder)
    pipelines.run(source)
    for table in tables:
        loaded = columns(table.name)
        assert query(isolated_env, f"select count(*) from raw_{source}.{table.name}")[0][0] > 0
        # the documented columns keep their types (an extra column an export adds is kept)
        assert {c: loaded.get(c) for c in empty[table.name]} == empty[table.name], table.name


# --- the column-wise reader keeps to the per-row reader ----------------------------------------

CRM_TABLES = {table.name: table for table in crm.TABLES}
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
ORDER_BASE = 1_790_000_000 * 10**9


def export_table(name: str) -> files.ExportTable:
    """The declared schema a file of that name is read with (as the sources glob them)."""
    for prefix, table in CRM_TABLES.items():
        if name.startswith(prefix):
            return table
    return inbox_table()


def _inbox_csv(*rows: str, header: str = HEADER, end: str = "\n") -> bytes:
    return end.join([header, *rows]).encode() + end.encode()


def _valid(message_id: str, *, briefing: str = "", received: str = "2026-09-01T10:00:00Z",
           closed: str = "", platform: str = "x", status: str = "open", tags: str = "") -> str:
    return f"{message_id},{platform},111,support,a1,{tags},{briefing},{status},{received},{closed}"


TIME_FORMS = [
    "2026-09-01T10:00:00Z", "2026-09-01T10:00:00", "2026-09-01 10:00:00Z",
    "2026-09-01T12:00:00+02:00", "2026-09-01T10:00:00-00:00", "2026-09-01T10:00:00+23:59",
    "2026-09-01T10:00:00.5Z", "2026-09-01T10:00:00.123456Z", "2026-09-01T10:00:00.1234567Z",
    "2026-09-01T10:00:00.12+01:00", "2026-09-01T10:00:00.Z", "2026-09-01T10:00:00,5Z",
    "2026-09-01T10:00:00+24:00", "2026-09-01T10:00:00+05:75", "2026-09-01T10:00:00z",
    "2026-09-01t10:00:00Z", "2024-02-29T00:00:00Z", "2026-02-29T00:00:00Z",
    "2026-02-30T10:00:00Z", "2026-04-31T10:00:00Z", "2026-09-01T24:00:00Z",
    "2026-09-01T10:60:00Z", "2026-09-01T10:00:60Z", "2026-13-01T10:00:00Z",
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z",
    "1600-03-01T00:00:00Z", "2099-01-01T00:00:00Z",
    *((datetime.now(UTC) + files.FUTURE_TOLERANCE + timedelta(minutes=m)).strftime(
        "%Y-%m-%dT%H:%M:%SZ") for m in (-1, 1)),  # just before and after the future limit
    "20260901T100000Z", "2026-09-01", "2026-09-01T10:00", "2026-9-01T10:00:00Z", "1788000000",
    "２０２６-09-01T10:00:00Z", " 2026-09-01T10:00:00Z", "2026-09-01T10:00:00Z ",
]

SYNTHETIC: dict[str, bytes] = {
    "times.csv": _inbox_csv(*(_valid(f"t{i}", received=form, closed=form)
                              for i, form in enumerate(TIME_FORMS))),
    "quoting.csv": _inbox_csv(
        _valid("q1", briefing='"a, b and ""c"""', tags='"#MRM,#supportMRM"'),
        _valid("q2", briefing='"two\nlines"'), _valid("q3", briefing='"crlf\r\ninside"'),
        _valid("q4", briefing='""'), _valid("q5", briefing='"ends with newline\n"'),
        '"q6","x","111","support","a1","","quoted everything","open","2026-09-01T10:00:00Z",""',
        _valid("q7", briefing='"three\n\nlines, one empty"'), _valid("q8"), end="\r\n"),
    "blank_and_misfit.csv": _inbox_csv(
        "", _valid("b1"), "   ", ",,,,,,,,,", " , ,\t,,,,,,,", "\u3000,\x1c,,,,,,,,", "b2,x,111",
        _valid("b3") + ",extra", '"multi\nline short",x', _valid("b4"), ",x,111,,,,,open,,",
        _valid("b5")),
    "values.csv": _inbox_csv(
        _valid(" "), _valid("v1", platform="X"), _valid("v2", platform=" x"),
        _valid("v3", status="deleted"), _valid("v4", platform=""), _valid("", platform=""),
        _valid("v5", briefing="y" * 100_000), _valid("v6", briefing="z" * 100_001),
        _valid("v7", briefing="Grüße ☕ 👍🏽 ﻿"), _valid("v8", tags="#MRM")),
    "bytes.csv": _inbox_csv(_valid("u1"), _valid("u2", briefing="caf\xe9"),
                            _valid("u3", briefing='"two\nlines caf\xe9"'), _valid("u4"),
                            "u5,x,caf\xe9", _valid("u6", briefing="Grüße"))
    .replace("caf\xe9".encode(), b"caf\xe9"),
    "bom.csv": codecs.BOM_UTF8 + _inbox_csv(_valid("bom1"), _valid("bom2")),
    "utf16.csv": _inbox_csv(_valid("w1", briefing="Grüße"), _valid("")).decode()
    .encode("utf-16"),
    "no_newline_at_end.csv": _inbox_csv(_valid("n1"), _valid("n2"))[:-1],
    "header_only.csv": (HEADER + "\n").encode(),
    # Blank records are skipped, even where whitespace would pass as a contact id.
    "contacts_blank_rows.csv": "\n".join([
        "contact_id,x_user_id,lifecycle_stage,created_at,updated_at", "C1,501,lead,,",
        " , ,\t,,", "\u3000,\x1c,\xa0,,", ",,,,", "\u2003,x,,,", "C2,,,,"]).encode(),
    "empty.csv": b"",
    "unknown_columns.csv": _inbox_csv("e1,x,111,open,2026-09-01T10:00:00Z,kept",
                                      header="message_id,platform,account_id,status,"
                                             "received_at,note"),
    "missing_a_key_column.csv": _inbox_csv("k1,x,111,open", header="message_id,platform,"
                                           "account_id,status"),
    "rows.jsonl": "\n".join([
        '{"message_id": "j1", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z", "tags": ["#MRM"], "meta": {"a": 1}}',
        '{"message_id": 20001, "platform": "x", "account_id": 111, "status": "open", '
        '"received_at": "2026-09-01T10:00:00+02:00", "score": 0.5, "flag": true}',
        '{"message_id": {"oid": 1}, "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z"}',
        '{"message_id": "j4", "platform": "x", "account_id": true, "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z"}',
        '{"message_id": "j5", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": 1788000000}',
        '{"message_id": "j6", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z", "tags": ["\\ud800"]}',
        '{"message_id": "j7", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z", "score": NaN}',
        '{"message_id": "j8", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z", "_source_line": "mine"}',
        '{"status": "closed", "received_at": "2026-09-01T11:00:00Z", "account_id": "111", '
        '"platform": "mastodon", "message_id": "j9", "closed_at": "", "late": null}',
        "", "   ", "[1, 2]", "null", '{"message_id": "j10", "platform": ',
        '{"message_id": "j11", "platform": "x", "account_id": "", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z"}',
        '{"message_id": "j12", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "0001-01-01T00:00:00+01:00"}',
        '{"message_id": "j13", "platform": "x", "account_id": "111", "status": "open", '
        '"received_at": "2026-09-01T10:00:00Z", "note": "caf\xe9"}',
    ]).encode().replace("caf\xe9".encode(), b"caf\xe9") + b"\r\n",
    "uniform.jsonl": "".join(
        f'{{"message_id": {i}, "platform": "{platform}", "account_id": "111", "status": "open", '
        f'"received_at": "2026-09-0{i}T10:00:00Z", "closed_at": {closed}}}\n'
        for i, platform, closed in [(1, "x", "null"), (2, "x", '"2026-09-02T11:00:00Z"'),
                                    (3, "myspace", "null"), (4, "x", '""'), (5, "x", "1.5")]
    ).encode(),
}
# Layouts Arrow might read otherwise than Python's csv module: left to the per-row reader.
PER_ROW_ONLY: dict[str, bytes] = {
    "quote_inside_field.csv": _inbox_csv(_valid("i1", briefing='say "hi"')),
    "text_after_closing_quote.csv": _inbox_csv(_valid("i2", briefing='"said" twice')),
    "unterminated_quote.csv": _inbox_csv(_valid("i3", briefing='"never closed')),
    "lone_carriage_return.csv": _inbox_csv(_valid("i4"), _valid("i5"), end="\r"),
    "nul_byte.csv": _inbox_csv(_valid("i6", briefing="a\0b")),
    "duplicate_header.csv": _inbox_csv("d1,x,111,open,2026-09-01T10:00:00Z,y",
                                       header="message_id,platform,account_id,status,"
                                              "received_at,platform"),
    "field_over_csv_limit.csv": _inbox_csv(_valid("i7", briefing="x" * 140_000), _valid("i8")),
    "notes.txt": b"not an export",
}


def _fixture_files() -> list[Path]:
    corpus = Path(__file__).resolve().parent.parent / "fixtures" / "bad_inputs" / "exports"
    return sorted(p for root in (FIXTURES, corpus) for p in root.rglob("*") if p.is_file())


def _outcome(parts: list) -> tuple[list, list, list]:
    tables = [p for p in parts if not isinstance(p, list)]
    quarantined = [row for p in parts if isinstance(p, list) for row in p]
    return [t.schema for t in tables], [t.to_pylist() for t in tables], quarantined


def _assert_same_as_per_row(name: str, data: bytes) -> None:
    table = export_table(name)
    columnar = files.read_columnar(name, data, table, ORDER_BASE, NOW)
    assert columnar is not None, f"{name} was not read column-wise"
    per_row = list(files.screen_export_per_row(name, data, table, ORDER_BASE, NOW))
    got, expected = _outcome(columnar), _outcome(per_row)
    assert got[0] == expected[0], f"{name}: Arrow schemas differ"
    assert got[1] == expected[1], f"{name}: loaded rows differ"
    assert got[2] == expected[2], f"{name}: quarantine rows differ"


@pytest.mark.parametrize("path", _fixture_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_fixture_export_is_read_column_wise_exactly_as_row_by_row(path: Path) -> None:
    _assert_same_as_per_row(path.name, path.read_bytes())


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_edge_case_exports_are_read_column_wise_exactly_as_row_by_row(name: str) -> None:
    _assert_same_as_per_row(name, SYNTHETIC[name])


def test_demo_exports_are_read_column_wise_exactly_as_row_by_row(demo_data: Path) -> None:
    payloads = demo_data / "payloads"
    exports = [p for folder in ("inbox", "crm") for p in (payloads / folder).glob("*")]
    assert exports
    for path in exports:
        _assert_same_as_per_row(path.name, path.read_bytes())


@pytest.mark.parametrize("name", sorted(PER_ROW_ONLY))
def test_exports_arrow_might_misread_are_left_to_the_per_row_reader(name: str) -> None:
    table = export_table(name)
    data = PER_ROW_ONLY[name]
    assert files.read_columnar(name, data, table, ORDER_BASE, NOW) is None
    assert _outcome(list(files.screen_export(name, data, table, ORDER_BASE, NOW))) == \
        _outcome(list(files.screen_export_per_row(name, data, table, ORDER_BASE, NOW)))


def test_rows_come_in_the_same_chunks_with_the_same_columns_as_row_by_row(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "CHUNK_ROWS", 3)
    for name in ("rows.jsonl", "times.csv", "blank_and_misfit.csv", "values.csv"):
        _assert_same_as_per_row(name, SYNTHETIC[name])
    table = export_table("rows.jsonl")
    sizes = [t.num_rows for t in files.read_columnar("rows.jsonl", SYNTHETIC["rows.jsonl"],
                                                     table, 0, NOW) if not isinstance(t, list)]
    assert max(sizes) == 3 and len(sizes) > 1


def test_randomly_mixed_rows_read_column_wise_exactly_as_row_by_row() -> None:
    """Rows drawn from tricky fragments (seeded): both readers must agree on every one."""
    pick = random.Random(20261101)
    fragments = ["", " ", "x", "mastodon", "open", "closed", "Grüße", '"a,b"', '"x\ny"',
                 '""""', "😀", "\t", *TIME_FORMS[:12], "9003", "222_3_12"]
    for attempt in range(20):
        rows = [",".join(pick.choice(fragments) for _ in range(pick.choice((9, 10, 10, 10, 11))))
                for _ in range(200)]
        data = _inbox_csv(*rows, end=pick.choice(("\n", "\r\n")))
        _assert_same_as_per_row(f"random_{attempt}.csv", data)


def test_time_outside_pythons_range_is_quarantined_not_a_crash() -> None:
    data = _inbox_csv(_valid("o1", received="0001-01-01T00:00:00+01:00"))
    *_, quarantined = files.screen_export("o.csv", data, inbox_table(), 0, NOW)
    assert [row["reason"] for row in quarantined] == [
        "received_at is not an ISO-8601 time: '0001-01-01T00:00:00+01:00'"]


def test_lone_surrogate_in_a_nested_json_value_is_quarantined_not_a_crash() -> None:
    line = ('{"message_id": "s1", "platform": "x", "account_id": "1", "status": "open", '
            '"received_at": "2026-09-01T10:00:00Z", "tags": ["\\ud800"]}\n')
    parts = list(files.screen_export("s.jsonl", line.encode(), inbox_table(), 0, NOW))
    assert [row["reason"] for row in parts[-1]] == [
        "tags holds a lone surrogate (not valid Unicode)"]
