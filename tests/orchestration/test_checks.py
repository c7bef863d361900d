"""Great Expectations suites run as blocking Dagster asset checks on raw and staging tables.

Every test executes the real check definitions with Dagster against a copy of the warehouse the
demo night built, corrupted on purpose where a check should fail.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from ingestion.pipelines import SOURCES
from orchestration.checks import quality_checks
from orchestration.checks.settings import QualitySettings
from orchestration.checks.suites import (
    RAW_SUITES,
    ROW_COUNT_CHECK,
    STAGING_SUITES,
    SUITE_CHECK,
    SUITES,
)
from tests.conftest import DemoRun

SUITE_BY_KEY = {s.asset_key: s for s in SUITES}


@pytest.fixture
def warehouse(demo_run: DemoRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo night's warehouse, set as the warehouse the checks read.

    The file keeps its name: dbt's staging views name their catalog after it."""
    copy = tmp_path / demo_run.warehouse.name
    shutil.copyfile(demo_run.warehouse, copy)
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(copy))
    return copy


def sql(warehouse: Path, statement: str, params: list | None = None) -> list[tuple]:
    """Run ``statement`` (several separated by ``; `` where only the last takes ``params``)."""
    *before, last = statement.split("; ")
    con = duckdb.connect(str(warehouse))
    try:
        for other in before:
            con.execute(other)
        return con.execute(last, params or []).fetchall()
    finally:
        con.close()


def run_checks(*asset_keys: list[str]) -> dict[dg.AssetCheckKey, dg.AssetCheckEvaluation]:
    """Execute the quality checks of ``asset_keys`` (and nothing else) in a Dagster run."""
    keys = [dg.AssetCheckKey(dg.AssetKey(k), name)
            for k in asset_keys for name in (SUITE_CHECK, ROW_COUNT_CHECK)]
    result = dg.materialize(quality_checks, selection=dg.AssetSelection.checks(*keys),
                            instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    return {e.asset_check_key: e for e in result.get_asset_check_evaluations()}


def evaluation(asset_key: list[str], check: str = SUITE_CHECK) -> dg.AssetCheckEvaluation:
    return run_checks(asset_key)[dg.AssetCheckKey(dg.AssetKey(asset_key), check)]


def meta(e: dg.AssetCheckEvaluation, name: str):
    return e.metadata[name].value


def test_every_raw_table_and_staging_model_has_two_blocking_checks() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    checked = {k: graph.get_check_spec(k) for k in graph.asset_check_keys
               if k.name in (SUITE_CHECK, ROW_COUNT_CHECK)}
    tables = {k for k in graph.get_all_asset_keys()
              if graph.get(k).group_name in ("raw", "staging")}
    assert tables and tables == {s.asset_key for s in SUITES}
    for table in tables:
        for name in (SUITE_CHECK, ROW_COUNT_CHECK):
            assert checked[dg.AssetCheckKey(table, name)].blocking, f"{table} {name}"


def test_raw_keys_are_the_primary_keys_dlt_merges_on() -> None:
    for suite in RAW_SUITES:
        source, table = suite.asset_key.path
        resource = next(r for r in SOURCES[source]().resources.values()
                        if r.table_name == table)
        primary_key = resource.compute_table_schema()["columns"]
        declared = {c for c, hints in primary_key.items() if hints.get("primary_key")}
        assert declared == set(suite.key), suite.asset_key


def test_the_demo_night_ran_and_passed_every_check(demo_run: DemoRun) -> None:
    counted = demo_run.query("select asset_key, outcome from audit.row_counts")
    assert {key for key, _ in counted} == {s.asset_key.to_user_string() for s in SUITES}
    assert {outcome for _, outcome in counted} == {"passed"}


def test_every_check_passes_on_the_demo_warehouse(warehouse: Path) -> None:
    results = run_checks(*(s.asset_key.path for s in SUITES))
    assert len(results) == 2 * len(SUITES)
    failed = {k.to_user_string(): meta(e, "failing_expectations")
              for k, e in results.items() if not e.passed}
    assert failed == {}
    mentions = results[dg.AssetCheckKey(dg.AssetKey(["x", "mentions"]), SUITE_CHECK)]
    (count,) = sql(warehouse, "select count(*) from raw_x.mentions")[0]
    assert meta(mentions, "row_count") == count
    assert meta(mentions, "expectations_evaluated") >= 8


# (asset, statement corrupting one row picked by `pick`, failing expectation, severity)
CORRUPTIONS = {
    "duplicate id": (
        ["x", "posts"], "select min(id) from raw_x.posts",
        "insert into raw_x.posts select * from raw_x.posts where id = ?",
        "expect_column_values_to_be_unique(id) [unique]", dg.AssetCheckSeverity.ERROR),
    "null id": (
        ["meta", "page_conversations"], "select min(id) from raw_meta.page_conversations",
        # dlt declares merge keys NOT NULL; a table loaded another way may not
        "alter table raw_meta.page_conversations alter column id drop not null; "
        "update raw_meta.page_conversations set id = null where id = ?",
        "expect_column_values_to_not_be_null(id) [not_null]", dg.AssetCheckSeverity.ERROR),
    "null reference id": (
        ["x", "mentions"], "select min(id) from raw_x.mentions",
        "update raw_x.mentions set author_id = null where id = ?",
        "expect_column_values_to_not_be_null(author_id) [not_null]",
        dg.AssetCheckSeverity.ERROR),
    "future timestamp": (
        ["x", "mentions"], "select min(id) from raw_x.mentions",
        "update raw_x.mentions set created_at = now() + interval 2 day where id = ?",
        "expect_column_values_to_be_between(created_at) [not_in_future]",
        dg.AssetCheckSeverity.ERROR),
    "timestamp before the earliest date": (
        ["crm", "contacts"], "select min(contact_id) from raw_crm.contacts",
        "update raw_crm.contacts set created_at = '2001-01-01' where contact_id = ?",
        "expect_column_values_to_be_between(created_at) [after_earliest]",
        dg.AssetCheckSeverity.ERROR),
    "unknown enum value": (
        ["inbox", "inbox_messages"], "select min(message_id) from raw_inbox.inbox_messages",
        "update raw_inbox.inbox_messages set status = 'snoozed' where message_id = ?",
        "expect_column_values_to_be_in_set(status) [in_set]", dg.AssetCheckSeverity.ERROR),
    "blank required text": (
        ["x", "search_results"], "select min(id) from raw_x.search_results",
        "update raw_x.search_results set text = '  ' where id = ?",
        "expect_column_values_to_not_match_regex(text) [not_blank]",
        dg.AssetCheckSeverity.ERROR),
    "missing required text": (
        ["x", "posts"], "select min(id) from raw_x.posts",
        "update raw_x.posts set text = null where id = ?",
        "expect_column_values_to_not_be_null(text) [not_blank]", dg.AssetCheckSeverity.ERROR),
    "dangling reference": (
        ["meta", "post_comments"], "select min(id) from raw_meta.post_comments",
        "update raw_meta.post_comments set post_id = 'no_such_post' where id = ?",
        "expect_column_values_to_be_in_set(post_id__found_in__page_posts__id) [link]",
        dg.AssetCheckSeverity.ERROR),
    "future timestamp seen through staging": (
        ["staging", "stg_x__mentions"], "select min(id) from raw_x.mentions",
        "update raw_x.mentions set created_at = now() + interval 2 day where id = ?",
        "expect_column_values_to_be_between(created_at) [not_in_future]",
        dg.AssetCheckSeverity.ERROR),
    "unknown team only warns": (
        ["staging", "stg_inbox__messages"],
        "select min(message_id) from raw_inbox.inbox_messages",
        "update raw_inbox.inbox_messages set team = 'night_shift' where message_id = ?",
        "expect_column_values_to_be_in_set(team__found_in__teams__team) [link]",
        dg.AssetCheckSeverity.WARN),
}


@pytest.mark.parametrize("case", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_corrupted_row_fails_its_check_naming_the_expectation(warehouse: Path, case: str) -> None:
    asset, pick, corrupt, expectation, severity = CORRUPTIONS[case]
    (row_id,) = sql(warehouse, pick)[0]
    sql(warehouse, corrupt, [row_id])

    result = evaluation(asset)

    assert not result.passed
    assert result.severity == severity
    assert meta(result, "failing_expectations") == [expectation]
    assert meta(result, "unexpected_counts")[expectation] == (2 if case == "duplicate id" else 1)
    samples = meta(result, "sample_rows")[expectation]
    id_columns = set(SUITE_BY_KEY[dg.AssetKey(asset)].id_columns)
    assert samples and all(set(row) <= id_columns for row in samples)
    if asset[0] != "staging" and case != "null id":
        assert {row[k] for row in samples for k in row if k != "_dlt_id"} >= {row_id}


def test_sample_rows_show_ids_only(warehouse: Path) -> None:
    sql(warehouse, "update raw_x.mentions set text = ' ', created_at = now() + interval 1 day "
                   "where id in (select id from raw_x.mentions order by id limit 3)")
    result = evaluation(["x", "mentions"])
    samples = meta(result, "sample_rows")
    assert len(samples) == 2
    for rows in samples.values():
        assert len(rows) == 3
        assert all(set(row) == {"owned_account_id", "id", "_dlt_id"} for row in rows)


@pytest.mark.parametrize("broken", [
    "alter table raw_x.posts drop column created_at",
    "alter table raw_x.posts alter column created_at type varchar",
], ids=["missing column", "wrong column type"])
def test_gx_internal_error_counts_as_failure(warehouse: Path, broken: str) -> None:
    sql(warehouse, broken)
    result = evaluation(["x", "posts"])
    assert not result.passed
    assert result.severity == dg.AssetCheckSeverity.ERROR
    errors = meta(result, "errors")
    assert "expect_column_values_to_be_between(created_at) [not_in_future]" in errors
    assert set(errors) == set(meta(result, "failing_expectations"))


def test_missing_table_fails_both_checks(warehouse: Path) -> None:
    sql(warehouse, "drop table raw_x.dm_events")
    results = run_checks(["x", "dm_events"])
    assert len(results) == 2
    for result in results.values():
        assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
        assert "does not exist" in meta(result, "errors")["validation"]


def shrink(warehouse: Path, share: float) -> int:
    """Delete about ``share`` of raw_meta.post_comments; return the rows left."""
    sql(warehouse, "delete from raw_meta.post_comments where id in (select id from "
                   "raw_meta.post_comments order by id limit "
                   "(select cast(count(*) * ? as int) from raw_meta.post_comments))", [share])
    return sql(warehouse, "select count(*) from raw_meta.post_comments")[0][0]


COMMENTS = ["meta", "post_comments"]


def test_a_table_that_shrinks_a_little_warns(warehouse: Path) -> None:
    before = sql(warehouse, "select count(*) from raw_meta.post_comments")[0][0]
    left = shrink(warehouse, 0.2)
    result = evaluation(COMMENTS, ROW_COUNT_CHECK)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.WARN
    assert meta(result, "failing_expectations") == [
        "expect_table_row_count_to_be_between [row_count_warn]"]
    assert (meta(result, "row_count"), meta(result, "previous_row_count")) == (left, before)


def test_shrink_threshold_is_a_setting(warehouse: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shrink(warehouse, 0.2)
    monkeypatch.setenv("RAPPORT_QUALITY_ROWS_WARN_SHRINK", "0.3")
    assert evaluation(COMMENTS, ROW_COUNT_CHECK).passed


def test_a_halved_table_fails_until_its_count_is_accepted(warehouse: Path) -> None:
    shrink(warehouse, 0.6)
    result = evaluation(COMMENTS, ROW_COUNT_CHECK)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR
    assert "expect_table_row_count_to_be_between [row_count_error]" in \
        meta(result, "failing_expectations")
    # the refused count is no baseline: the next night fails again
    assert not evaluation(COMMENTS, ROW_COUNT_CHECK).passed
    sql(warehouse, "update audit.row_counts set outcome = 'accepted' "
                   "where asset_key = 'meta/post_comments' and outcome = 'failed'")
    assert evaluation(COMMENTS, ROW_COUNT_CHECK).passed


def test_a_table_that_jumps_fails(warehouse: Path) -> None:
    sql(warehouse, "update audit.row_counts set row_count = row_count // 20 "
                   "where asset_key = 'meta/post_comments'")
    result = evaluation(COMMENTS, ROW_COUNT_CHECK)
    assert not result.passed and result.severity == dg.AssetCheckSeverity.ERROR


def test_the_first_night_sets_the_baseline(warehouse: Path) -> None:
    sql(warehouse, "delete from audit.row_counts")
    result = evaluation(COMMENTS, ROW_COUNT_CHECK)
    assert result.passed
    assert "baseline" in meta(result, "previous_row_count")
    assert sql(warehouse, "select outcome from audit.row_counts") == [("passed",)]


def test_inconsistent_row_count_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAPPORT_QUALITY_ROWS_WARN_SHRINK", "0.8")
    with pytest.raises(ValueError, match="ROWS_WARN_SHRINK"):
        QualitySettings.from_env()


def test_failing_raw_check_stops_the_dbt_models_downstream(
        demo_data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer
    from orchestration.assets.dbt import rapport_dbt_assets
    from orchestration.assets.ingestion import raw_assets
    from orchestration.resources import RESOURCES

    payloads = tmp_path / "payloads"
    shutil.copytree(demo_data / "payloads", payloads)
    page_file = next((payloads / "x").rglob("mentions/first.json"))
    page = json.loads(page_file.read_text())
    tweet = page["body"]["data"][0]
    # Loads (ingestion only quarantines what cannot be loaded) but breaks a raw expectation.
    tweet["text"] = "   "
    page_file.write_text(json.dumps(page))
    warehouse = tmp_path / "night" / "rapport.duckdb"

    x_raw = [s.asset_key for s in RAW_SUITES if s.source == "x"]
    x_staging = [s.asset_key for s in STAGING_SUITES if s.source == "x"]
    with ReplayServer(payloads) as server:
        for key, value in demo_environment(payloads, server.url).items():
            monkeypatch.setenv(key, value)
        monkeypatch.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        result = dg.materialize(
            [*raw_assets, rapport_dbt_assets, *quality_checks],
            selection=dg.AssetSelection.assets(*x_raw, *x_staging),
            resources=RESOURCES, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)

    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations()
                 if e.asset_check_key == dg.AssetCheckKey(dg.AssetKey(["x", "mentions"]),
                                                          SUITE_CHECK))
    label = "expect_column_values_to_not_match_regex(text) [not_blank]"
    assert not check.passed and meta(check, "failing_expectations") == [label]
    assert tweet["id"] in {row["id"] for row in meta(check, "sample_rows")[label]}
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    # the checked raw tables were written (checks do not roll back), nothing after them was
    assert dg.AssetKey(["x", "mentions"]) in materialized
    assert not materialized & set(x_staging)
    assert sql(warehouse, "select count(*) from information_schema.tables "
                          "where table_schema = 'staging'") == [(0,)]
