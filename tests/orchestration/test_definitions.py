"""Dagster definitions load with one lineage from dlt tables through staging to marts."""

from __future__ import annotations

import dagster as dg

from ingestion.pipelines import SOURCES
from orchestration.definitions import defs


def graph():
    return defs.resolve_asset_graph()


def test_every_dlt_resource_is_an_asset_keyed_source_and_table() -> None:
    keys = {k.to_user_string() for k in graph().get_all_asset_keys()}
    for name, factory in SOURCES.items():
        for resource in factory().resources.values():
            assert f"{name}/{resource.table_name}" in keys
    assert not [k for k in keys if k.startswith("dlt_")]


def test_no_orphan_or_phantom_assets() -> None:
    g = graph()
    raw = {f"{name}/{r.table_name}" for name, f in SOURCES.items() for r in f().resources.values()}
    for key in g.get_all_asset_keys():
        node = g.get(key)
        name = key.to_user_string()
        if name in raw:
            assert not node.parent_keys, f"{name} should have no upstream"
            assert node.child_keys, f"raw table {name} is read by no staging model"
        elif name.startswith("staging/"):
            parents = {p.to_user_string() for p in node.parent_keys}
            assert parents and parents <= raw, f"{name} reads {parents}"
    assert len(g.get_all_asset_keys()) == len(defs.resolve_all_asset_specs())


def test_marts_descend_from_raw_tables() -> None:
    g = graph()
    mart = dg.AssetKey(["marts", "mart_mrm_daily"])
    seen, frontier = set(), [mart]
    while frontier:
        key = frontier.pop()
        for parent in g.get(key).parent_keys:
            if parent not in seen:
                seen.add(parent)
                frontier.append(parent)
    assert dg.AssetKey(["inbox", "inbox_messages"]) in seen
    assert dg.AssetKey(["x", "mentions"]) in seen


def test_dbt_tests_are_asset_checks() -> None:
    checks = list(defs.resolve_asset_graph().asset_check_keys)
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_conversations"]) for c in checks)
    assert len(checks) > 50


def test_nightly_schedule_runs_everything_at_two_in_berlin() -> None:
    schedule = defs.resolve_schedule_def("nightly_0200_berlin")
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    job = defs.resolve_job_def("nightly")
    assert schedule.job_name == job.name
    assert job.asset_layer.selected_asset_keys == set(graph().get_all_asset_keys())


def test_publishing_waits_for_every_mart_and_staging_check() -> None:
    g = graph()
    marts = {k for k in g.get_all_asset_keys() if k.path[0] in ("marts", "staging")}
    published = g.get(dg.AssetKey(["serving", "published_marts"]))
    assert marts and set(published.parent_keys) == marts


def test_marts_and_published_copy_carry_a_nightly_freshness_policy() -> None:
    specs = {s.key: s for s in defs.resolve_all_asset_specs()}
    for key in (dg.AssetKey(["marts", "fct_conversations"]),
                dg.AssetKey(["serving", "published_marts"])):
        assert specs[key].freshness_policy is not None, key


def test_the_purge_of_deleted_content_runs_after_every_dbt_model() -> None:
    """int_tombstones (built by dbt) says what was deleted and every model removes it, so
    the purge that overwrites the raw content waits for the whole dbt build."""
    g = graph()
    dbt_models = {k for k in g.get_all_asset_keys()
                  if k.path[0] in ("staging", "intermediate", "marts")}
    purge = g.get(dg.AssetKey(["privacy", "purge_deleted_content"]))
    assert dbt_models and dbt_models <= set(purge.parent_keys)
    assert purge.key in defs.resolve_job_def("nightly").asset_layer.selected_asset_keys
