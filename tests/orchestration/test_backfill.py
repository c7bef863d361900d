"""Backfilling a range of days: the real backfill job on demo data served over loopback."""

from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from dagster import Failure

from ingestion.demo.replay import ReplayServer
from ingestion.sources.mastodon import mastodon_source
from ingestion.sources.mastodon.helpers import snowflake_at
from ingestion.sources.meta import meta_source
from ingestion.sources.x import x_source
from orchestration.assets.window import BackfillWindow
from orchestration.checks.suites import ROW_COUNT_CHECK, SUITE_CHECK
from orchestration.definitions import defs
from orchestration.preflight import CONFIGURATION_ERROR
from orchestration.schedules import backfill_job, nightly_job
from tests.conftest import DemoRun, query
from tests.test_end_to_end import MARTS, mart_digest

FIRST_DAY, LAST_DAY = "2026-10-19", "2026-10-21"
WINDOW = (datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 10, 22, tzinfo=UTC))
# Raw tables whose rows a backfill reads by their own creation time, and that time's column.
# (Comments are read for every post of the window, whenever they were written.)
WINDOWED_TABLES = {
    "raw_x.mentions": "created_at", "raw_x.posts": "created_at",
    "raw_x.search_results": "created_at", "raw_x.dm_events": "created_at",
    "raw_meta.page_posts": "created_time", "raw_meta.ig_media": "timestamp",
    "raw_mastodon.statuses": "created_at", "raw_mastodon.notifications": "created_at",
    "raw_mastodon.tag_statuses": "created_at",
    "raw_mastodon.conversations": "last_status__created_at",
}


# --- definitions --------------------------------------------------------------------------

def test_backfill_job_asks_for_the_days_and_skips_row_count_baselines() -> None:
    graph = defs.resolve_asset_graph()
    nightly_checks = nightly_job.selection.resolve_checks(graph)
    backfill_checks = backfill_job.selection.resolve_checks(graph)
    assert backfill_job.selection.resolve(graph) == nightly_job.selection.resolve(graph)
    assert {k for k in nightly_checks if k.name == ROW_COUNT_CHECK}
    assert not {k for k in backfill_checks if k.name == ROW_COUNT_CHECK}
    assert {k for k in nightly_checks if k.name == SUITE_CHECK} == \
        {k for k in backfill_checks if k.name == SUITE_CHECK}
    fields = defs.resolve_job_def("backfill").run_config_schema.config_type.fields
    assert fields["start"].is_required and fields["end"].is_required


def test_nightly_schedule_still_runs_the_incremental_job_without_config() -> None:
    schedule = defs.resolve_schedule_def("nightly_0200_berlin")
    assert schedule.job_name == "nightly"
    assert BackfillWindow().source_args() == {} and BackfillWindow().dbt_args() == []


def test_window_covers_whole_utc_days_with_the_last_day_included() -> None:
    window = BackfillWindow(start=FIRST_DAY, end=LAST_DAY)
    assert window.source_args() == {"start": WINDOW[0], "end": WINDOW[1]}
    args = window.dbt_args()
    assert args[0] == "--vars" and json.loads(args[1]) == {
        "window_start": "2026-10-19 00:00:00", "window_end": "2026-10-22 00:00:00"}
    assert BackfillWindow(start=FIRST_DAY, end=FIRST_DAY, dbt_full_refresh=True).dbt_args()[0] \
        == "--full-refresh"


@pytest.mark.parametrize("start,end,message", [
    ("2026-10-21", "2026-10-19", "before start"),
    ("2026-10-19", None, "both start and end"),
    ("19.10.2026", "2026-10-21", "not a day"),
    ("20261019", "2026-10-21", "not a day"),
    ("2026-13-45", "2026-10-21", "not a day"),
    ("2999-01-01", "2999-01-02", "in the future"),
])
def test_a_bad_window_is_refused_as_a_configuration_error(start, end, message) -> None:
    with pytest.raises(Failure, match=message) as refused:
        BackfillWindow(start=start, end=end).bounds()
    assert refused.value.allow_retries is False
    assert refused.value.metadata[CONFIGURATION_ERROR].value is True


@pytest.mark.parametrize("factory", [x_source, meta_source, mastodon_source])
def test_a_source_refuses_half_a_window(factory) -> None:
    with pytest.raises(ValueError, match="both start and end"):
        factory(base_url="http://127.0.0.1:9", start=WINDOW[0])


def test_a_status_id_maps_back_to_its_millisecond() -> None:
    moment = datetime(2026, 10, 19, 12, 30, tzinfo=UTC)
    assert (int(snowflake_at(moment)) >> 16) == int(moment.timestamp() * 1000)


# --- a real backfill on demo data -----------------------------------------------------------

def run_job_on(data_dir: Path, warehouse: Path, days: tuple[str, str] | None = None
               ) -> list[str]:
    """Serve ``data_dir`` and run the backfill job for ``days`` (else the nightly job) into
    ``warehouse``; the request paths the server answered."""
    from ingestion.demo.config import demo_environment
    from orchestration.cli import run_backfill, run_nightly

    payloads = data_dir / "payloads"
    with ReplayServer(payloads) as server, pytest.MonkeyPatch.context() as mp:
        for key, value in demo_environment(payloads, server.url).items():
            mp.setenv(key, value)
        mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        mp.delenv("DAGSTER_HOME", raising=False)
        ok = run_backfill(*days) if days else run_nightly()
        assert ok, f"the {'backfill' if days else 'nightly'} run failed"
        return list(server.requests)


def cursors(warehouse: Path) -> dict[str, dict]:
    """The cursors each API source keeps in its latest dlt state (empty ones left out)."""
    decompress = importlib.import_module("dlt.pipeline.state_sync").decompress_state
    found = {}
    for source in ("x", "meta", "mastodon"):
        rows = query(warehouse, f"select state from raw_{source}._dlt_pipeline_state "
                                "order by version desc limit 1")
        state = decompress(rows[0][0]) if rows else {}
        resources = state.get("sources", {}).get(source, {}).get("resources", {})
        found[source] = {name: {k: v for k, v in value.items() if v}
                         for name, value in resources.items()
                         if any(value.values())}
    return found


def load_ids(warehouse: Path) -> set[str]:
    return {i for schema in ("raw_x", "raw_meta", "raw_mastodon")
            for (i,) in query(warehouse, f"select load_id from {schema}._dlt_loads")}


def loaded_by(warehouse: Path, loads: set[str]) -> dict[str, list[datetime]]:
    """Creation times of the rows of each windowed table that ``loads`` wrote."""
    ids = ", ".join(f"'{i}'" for i in sorted(loads))
    return {table: [t for (t,) in query(warehouse, f"select {column} from {table} "
                                                   f"where _dlt_load_id in ({ids})")]
            for table, column in WINDOWED_TABLES.items()}


def digests(warehouse: Path) -> dict[str, tuple[int, str]]:
    run = DemoRun(data_dir=Path(), warehouse=warehouse, summary={}, conversations=[],
                  contacts=[])
    found = {m: mart_digest(run, m) for m in MARTS}
    rows = run.query("select * from intermediate.int_messages order by message_key")
    found["int_messages"] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return found


@dataclass
class Story:
    """A new warehouse: a backfill of three days, a nightly run, the same backfill again."""

    warehouse: Path
    first_requests: list[str]
    first_rows: dict[str, list[datetime]]
    first_cursors: dict[str, dict]
    audit_after_first: list[tuple]
    nightly_digests: dict[str, tuple[int, str]]
    nightly_cursors: dict[str, dict]
    second_rows: dict[str, list[datetime]]
    second_cursors: dict[str, dict]
    second_digests: dict[str, tuple[int, str]]


@pytest.fixture(scope="module")
def story(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Story:
    warehouse = tmp_path_factory.mktemp("backfill") / "rapport.duckdb"
    days = (FIRST_DAY, LAST_DAY)
    first_requests = run_job_on(demo_data, warehouse, days)
    first_rows = loaded_by(warehouse, load_ids(warehouse))
    first_cursors = cursors(warehouse)
    audit = query(warehouse, "select table_schema, table_name from information_schema.tables "
                             "where table_schema = 'audit'")
    run_job_on(demo_data, warehouse)
    nightly_digests, nightly_cursors = digests(warehouse), cursors(warehouse)
    before = load_ids(warehouse)
    run_job_on(demo_data, warehouse, days)
    return Story(warehouse, first_requests, first_rows, first_cursors, audit, nightly_digests,
                 nightly_cursors, loaded_by(warehouse, load_ids(warehouse) - before),
                 cursors(warehouse), digests(warehouse))


def test_backfill_asks_each_platform_for_its_days(story: Story) -> None:
    paths = [unquote(r) for r in story.first_requests]
    x_reads = [p for p in paths if p.startswith("/x/2/") and "dm_events" not in p]
    assert x_reads and all("start_time=2026-10-19T00:00:00Z" in p
                           and "end_time=2026-10-22T00:00:00Z" in p for p in x_reads)
    since, until = int(WINDOW[0].timestamp()), int(WINDOW[1].timestamp()) - 1
    feeds = [p for p in paths if p.startswith("/meta/") and ("/feed?" in p or "/media?" in p)]
    assert feeds and all(f"since={since}" in p and f"until={until}" in p for p in feeds)
    statuses = [p for p in paths if p.startswith("/mastodon/")
                and ("/statuses?" in p or "/timelines/tag/" in p)]
    assert statuses and all("min_id=" in p for p in statuses)
    assert any(f"min_id={snowflake_at(WINDOW[0])}" in p for p in statuses)
    assert not [p for p in paths if "since_id=" in p]


def test_backfill_into_a_new_warehouse_loads_only_its_days(story: Story) -> None:
    for table, times in story.first_rows.items():
        assert times, f"{table}: nothing loaded for the window"
        outside = [t for t in times if not WINDOW[0] <= t < WINDOW[1]]
        assert not outside, f"{table}: {len(outside)} rows outside the window"


def test_backfill_sets_no_cursor_and_no_row_count_baseline(story: Story) -> None:
    assert story.first_cursors == {"x": {}, "meta": {}, "mastodon": {}}
    assert story.audit_after_first == []


def test_nightly_after_a_backfill_gives_the_marts_of_a_full_build(
        story: Story, demo_run: DemoRun) -> None:
    # int_messages and fct_interactions were built by the backfill, so the nightly run took
    # their incremental path; demo_run built everything from scratch.
    assert story.nightly_digests == digests(demo_run.warehouse)


def test_backfill_of_a_loaded_warehouse_keeps_the_nightly_cursors(story: Story) -> None:
    assert story.nightly_cursors["x"] and story.nightly_cursors["mastodon"]
    assert story.second_cursors == story.nightly_cursors
    for table, times in story.second_rows.items():
        assert times and all(WINDOW[0] <= t < WINDOW[1] for t in times), table
    assert story.second_digests == story.nightly_digests
