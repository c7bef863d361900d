"""Quality checks of raw tables that exist and hold no rows (a source that is not configured,
an endpoint that returned nothing): they pass as "no data"; a missing table still fails, and
the row count is still held to the last night that had rows.

The warehouse is made by ``pipelines.schema_only`` (the tables a night creates for a source
that is not configured), not by hand.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion import pipelines
from orchestration.checks import history
from orchestration.checks.runner import NO_DATA, run_checks
from orchestration.checks.settings import QualitySettings
from orchestration.checks.suites import RAW_SUITES, ROW_COUNT_CHECK, SUITE_CHECK

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
X_RAW = [s for s in RAW_SUITES if s.source == "x"]
POSTS = dg.AssetKey(["x", "posts"])


@pytest.fixture(scope="module")
def empty_x(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse holding the X tables of a night with X not configured."""
    warehouse = tmp_path_factory.mktemp("empty_x") / "rapport.duckdb"
    with pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SOURCES__")]:
            mp.delenv(key)
        mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        pipelines.ensure_warehouse_dir()
        pipelines.make_pipeline("x").run(pipelines.schema_only("x"))
    return warehouse


@pytest.fixture
def con(empty_x: Path, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a private copy of that warehouse."""
    copy = tmp_path / empty_x.name
    shutil.copyfile(empty_x, copy)
    connection = duckdb.connect(str(copy))
    yield connection
    connection.close()


def check(con: duckdb.DuckDBPyConnection, suites=X_RAW, now: datetime = NOW
          ) -> dict[dg.AssetCheckKey, dg.AssetCheckResult]:
    selected = [dg.AssetCheckKey(s.asset_key, name) for s in suites
                for name in (SUITE_CHECK, ROW_COUNT_CHECK)]
    results = run_checks(selected, suites, con, run_id="test",
                         settings=QualitySettings.from_env(), now=now)
    return {dg.AssetCheckKey(r.asset_key, r.check_name): r for r in results}


def value(result: dg.AssetCheckResult, name: str):
    return result.metadata[name].value


def add_post(con: duckdb.DuckDBPyConnection, tweet_id: str) -> None:
    con.execute("insert into raw_x.posts (id, owned_account_id, author_id, text, created_at, "
                "_dlt_load_id, _dlt_id) values (?, '111', '111', 'hello', ?, '1', ?)",
                [tweet_id, NOW - timedelta(days=1), tweet_id])


def test_every_check_of_an_empty_raw_table_passes_saying_there_is_no_data(
        con: duckdb.DuckDBPyConnection) -> None:
    results = check(con)
    assert len(results) == 2 * len(X_RAW)
    for key, result in results.items():
        assert result.passed, (key, result.description)
        assert value(result, "row_count") == 0
        assert value(result, "no_data") is True
        assert value(result, "note") == NO_DATA
    # the night is recorded, so the first night with rows knows the table was empty before
    assert con.execute("select row_count, outcome from audit.row_counts "
                       "where asset_key = 'x/posts'").fetchall() == [(0, history.PASSED)]


def test_a_table_that_does_not_exist_still_fails_both_checks(
        con: duckdb.DuckDBPyConnection) -> None:
    con.execute("drop table raw_x.dm_events")
    results = check(con)
    for name in (SUITE_CHECK, ROW_COUNT_CHECK):
        result = results[dg.AssetCheckKey(dg.AssetKey(["x", "dm_events"]), name)]
        assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
        assert "does not exist" in value(result, "errors")["validation"]


def test_a_table_emptied_after_a_night_with_rows_fails_its_row_count(
        con: duckdb.DuckDBPyConnection) -> None:
    history.record(con, "x/posts", 40, history.PASSED, NOW - timedelta(days=1), "before")
    results = check(con)
    rows = results[dg.AssetCheckKey(POSTS, ROW_COUNT_CHECK)]
    assert not rows.passed and rows.severity == dg.AssetCheckSeverity.ERROR
    assert value(rows, "row_count") == 0 and value(rows, "previous_row_count") == 40
    assert value(rows, "allowed_row_count_error") == [20, 400]
    assert "no_data" not in rows.metadata
    # the expectations on the rows themselves have nothing to check
    assert results[dg.AssetCheckKey(POSTS, SUITE_CHECK)].passed
    # refused: the next night is held to the 40 rows again, not to the empty night
    assert history.baseline(con, "x/posts").row_count == 40


def test_the_first_night_with_rows_after_empty_nights_sets_the_baseline(
        con: duckdb.DuckDBPyConnection) -> None:
    check(con)
    for n in range(30):
        add_post(con, str(n))
    later = NOW + timedelta(days=1)
    results = check(con, [s for s in X_RAW if s.asset_key == POSTS], now=later)
    rows = results[dg.AssetCheckKey(POSTS, ROW_COUNT_CHECK)]
    assert rows.passed and value(rows, "row_count") == 30
    assert "no_data" not in rows.metadata
    assert results[dg.AssetCheckKey(POSTS, SUITE_CHECK)].passed
    assert history.baseline(con, "x/posts").row_count == 30


def test_a_table_with_rows_is_checked_as_before(con: duckdb.DuckDBPyConnection) -> None:
    add_post(con, "1")
    add_post(con, "1")  # a duplicate key
    results = check(con, [s for s in X_RAW if s.asset_key == POSTS])
    suite = results[dg.AssetCheckKey(POSTS, SUITE_CHECK)]
    assert not suite.passed and value(suite, "row_count") == 2
    assert "no_data" not in suite.metadata
