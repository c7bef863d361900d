"""Nothing is lost on bad input: every input of the bad-input corpus is loaded (as sent or
normalised) or quarantined with a reason, every table reconciles, and dbt builds on the result.

The corpus (``tests/fixtures/bad_inputs``, written by ``make_corpus.py`` there) holds API pages
for X, Meta and Mastodon served on loopback, and inbox and CRM export files; ``expected.json``
states the outcome of each input. The real pipelines load it into a temporary warehouse.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingestion.settings import REPO_ROOT
from ingestion.sources.validation import TOMBSTONE, TOMBSTONE_FIELDS
from tests.ingestion.test_api_sources import load_every_source

CORPUS = Path(__file__).resolve().parent / "fixtures" / "bad_inputs"
CASES: list[dict] = json.loads((CORPUS / "expected.json").read_text(encoding="utf-8"))
KEY_COLUMN = {"inbox_messages": "message_id", "contacts": "contact_id",
              "lifecycle_stages": "contact_id"}
# The categories the issue names, each of which the corpus must cover.
CATEGORIES = {"ids", "wrong types", "dates", "time zones", "future timestamps", "text",
              "huge text", "broken unicode", "html and script", "duplicates", "deleted items",
              "unknown fields", "file encodings"}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The corpus loaded by the real pipelines of every source into one warehouse."""
    root = tmp_path_factory.mktemp("bad_inputs")
    shutil.copytree(CORPUS / "api", root / "api")
    shutil.copytree(CORPUS / "exports", root / "exports")
    path = root / "warehouse" / "rapport.duckdb"
    load_every_source(root, path, max_attempts=2)
    yield path


def query(warehouse: Path, sql: str, params: list | None = None) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def shown(value: object) -> object:
    """Times compared as UTC ISO text, everything else as is."""
    return value.astimezone(UTC).isoformat() if isinstance(value, datetime) else value


def test_the_corpus_has_at_least_fifty_inputs_covering_every_category() -> None:
    assert len(CASES) >= 50
    assert len({c["case"] for c in CASES}) == len(CASES)
    assert CATEGORIES <= {c["category"] for c in CASES}
    assert {c["source"] for c in CASES} == {"x", "meta", "mastodon", "inbox", "crm"}
    assert {"loaded", "normalised", "quarantined", "superseded"} == {c["outcome"] for c in CASES}


def test_every_export_record_is_an_input_of_the_corpus() -> None:
    records = 0
    for path in (CORPUS / "exports").rglob("*"):
        if path.suffix == ".jsonl":
            records += sum(1 for line in path.read_bytes().splitlines() if line.strip())
        elif path.suffix == ".csv":
            data = path.read_bytes()
            text = data.decode("utf-16") if data[:2] == b"\xff\xfe" else data.decode("latin-1")
            records += len(list(csv.reader(text.splitlines(True)))) - 1
    assert records == sum(1 for c in CASES if c["source"] in ("inbox", "crm"))


@pytest.mark.parametrize("case", [c for c in CASES if c["outcome"] in ("loaded", "normalised")],
                         ids=lambda c: c["case"])
def test_valid_input_loads_with_its_text_intact(warehouse: Path, case: dict) -> None:
    table = f"raw_{case['source']}.{case['table']}"
    key = KEY_COLUMN.get(case["table"], "id")
    rows = query(warehouse, f"select count(*) from {table} where {key} = ?", [case["key"]])
    assert rows == [(1,)], f"{case['case']}: expected exactly one row for {case['key']}"
    for column, expected in case["expect"].items():
        got = query(warehouse, f"select {column} from {table} where {key} = ?", [case["key"]])
        assert shown(got[0][0]) == expected, f"{case['case']}: {column}"


@pytest.mark.parametrize("case", [c for c in CASES if c["outcome"] == "quarantined"],
                         ids=lambda c: c["case"])
def test_bad_input_is_quarantined_with_its_reason_and_raw_text(warehouse: Path,
                                                               case: dict) -> None:
    table = f"raw_{case['source']}.{case['table']}_quarantine"
    api = case["source"] in ("x", "meta", "mastodon")
    raw = "raw_json" if api else "raw_row"
    if case["reason"] == "tombstone":
        # a tombstone keeps ids and deletion markers only, not the deleted content
        rows = query(warehouse, f"select reason, raw_json from {table} where item_id = ?",
                     [case["key"]])
        assert len(rows) == 1, f"{case['case']}: {len(rows)} quarantine rows"
        assert rows[0][0] == TOMBSTONE
        assert set(json.loads(rows[0][1])) <= set(TOMBSTONE_FIELDS), rows[0][1]
        assert case["case"] not in rows[0][1]  # the item's other fields are gone
        return
    rows = query(warehouse, f"select reason, {raw} from {table} where {raw} like ?",
                 [f"%{case['case']}%"])
    assert len(rows) == 1, f"{case['case']}: {len(rows)} quarantine rows"
    assert case["reason"] in rows[0][0]
    if api:
        assert query(warehouse, f"select count(*) from {table} where endpoint is null "
                                "or quarantined_at is null") == [(0,)]
        if case["key"]:
            assert query(warehouse, f"select item_id from {table} where raw_json like ?",
                         [f"%{case['case']}%"]) == [(case["key"],)]
        # loaded nowhere else
        key = KEY_COLUMN.get(case["table"], "id")
        if case["key"]:
            assert query(warehouse, f"select count(*) from raw_{case['source']}."
                                    f"{case['table']} where {key} = ?", [case["key"]]) == [(0,)]


@pytest.mark.parametrize("table", sorted({(c["source"], c["table"]) for c in CASES}),
                         ids=lambda t: f"{t[0]}.{t[1]}")
def test_inputs_equal_rows_loaded_plus_rows_quarantined(warehouse: Path,
                                                        table: tuple[str, str]) -> None:
    source, name = table
    outcomes = Counter(c["outcome"] for c in CASES if (c["source"], c["table"]) == table)
    loaded = query(warehouse, f"select count(*) from raw_{source}.{name}")[0][0]
    exists = query(warehouse, "select count(*) from information_schema.tables where "
                              "table_schema = ? and table_name = ?",
                   [f"raw_{source}", f"{name}_quarantine"])[0][0]
    quarantined = (query(warehouse, f"select count(*) from raw_{source}.{name}_quarantine")[0][0]
                   if exists else 0)
    assert loaded == outcomes["loaded"] + outcomes["normalised"]
    assert quarantined == outcomes["quarantined"]
    assert sum(outcomes.values()) == loaded + quarantined + outcomes["superseded"]


def test_of_two_versions_read_in_one_night_exactly_the_newer_one_lands(warehouse: Path) -> None:
    # Mastodon: the edit with the later edited_at wins although it was read first.
    assert query(warehouse, "select content_text from raw_mastodon.statuses "
                            "where id = '110000000000000010'") == [("mastodon-edit-newer",)]
    assert query(warehouse, "select note from raw_meta.page_conversations where id = 't_1'") \
        == [("meta-thread-newer",)]
    assert query(warehouse, "select count(*) from raw_meta.conversation_messages "
                            "where id = 'm_1'") == [(1,)]


def test_the_whole_project_builds_on_bad_input_with_unlisted_accounts_unassigned(
        warehouse: Path) -> None:
    # The corpus' accounts are not in the owned_accounts seed: their messages must reach the
    # marts under team 'unassigned' (with a warning naming them), not stop the night.
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)}
    target = warehouse.parent / "dbt_target"
    for command in (["seed"], ["build"]):
        result = subprocess.run(
            [str(dbt), *command, "--profiles-dir", ".", "--target-path", str(target)],
            cwd=REPO_ROOT / "dbt_project", env=env, capture_output=True, text=True,
            timeout=600)
        assert result.returncode == 0, result.stdout[-4000:]
    assert "accepted_values_dim_accounts_is_configured" in result.stdout
    unassigned = query(warehouse, "select platform, team, purpose, channel from "
                                  "marts.dim_accounts where not is_configured order by 1")
    assert {p for p, *_ in unassigned} >= {"x", "mastodon", "facebook"}
    assert all(row[1:] == ("unassigned", "unassigned", f"{row[0]}_unassigned")
               for row in unassigned)
    teams = query(warehouse, "select distinct team from marts.mart_response_daily")
    assert ("unassigned",) in teams
