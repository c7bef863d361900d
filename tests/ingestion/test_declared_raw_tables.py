"""Every raw table of the API sources exists with its declared columns, whatever the night:
a source that is not configured (``pipelines.schema_only``), an endpoint that returned
nothing, or a night with rows, in either order, with the types a real load gives.

Real loads read the recorded pages of ``tests/fixtures/api`` on the loopback replay server
(plus one page of the owned account's own tweets, which those pages leave empty); "empty"
nights read the same endpoints answering no items.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from ingestion import pipelines
from ingestion.demo.replay import ReplayServer
from ingestion.settings import REPO_ROOT
from ingestion.sources.mastodon.schema import RAW_COLUMNS as MASTODON_COLUMNS
from ingestion.sources.meta.schema import RAW_COLUMNS as META_COLUMNS
from ingestion.sources.x.schema import RAW_COLUMNS as X_COLUMNS
from tests.conftest import query
from tests.ingestion.test_api_sources import FIXTURES, configure

API_SOURCES = ("x", "meta", "mastodon")
DECLARED = {"x": X_COLUMNS, "meta": META_COLUMNS, "mastodon": MASTODON_COLUMNS}
STAGING = REPO_ROOT / "dbt_project" / "models" / "staging"
# How DuckDB shows each dlt data type the declarations use.
DUCKDB_TYPES = {"text": "VARCHAR", "bigint": "BIGINT", "timestamp": "TIMESTAMP WITH TIME ZONE",
                "json": "JSON", "date": "DATE"}
LINEAGE = {"_dlt_load_id": "VARCHAR", "_dlt_id": "VARCHAR"}


def dbt_source_tables(source: str) -> list[str]:
    """The raw tables the dbt project declares for ``source``."""
    spec = yaml.safe_load((STAGING / source / f"_{source}__sources.yml").read_text())
    (declared,) = [s for s in spec["sources"] if s["name"] == source]
    return [t["name"] for t in declared["tables"]]


def columns(warehouse: Path, source: str) -> dict[tuple[str, str], tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rows = con.execute("select table_name, column_name, data_type, is_nullable "
                           "from information_schema.columns where table_schema = ?",
                           [pipelines.dataset_name(source)]).fetchall()
    finally:
        con.close()
    return {(t, c): (d, n) for t, c, d, n in rows if not t.startswith("_dlt_")}


def pages_with_own_tweets(root: Path) -> Path:
    """A copy of the recorded pages in which the owned account also tweeted (its timeline
    page is empty in the fixtures): the mentions page's tweets, one page, no paging."""
    shutil.copytree(FIXTURES / "api", root)
    recorded = json.loads((root / "x/2/users/111/mentions/first.json").read_text())
    envelope = recorded[-1] if isinstance(recorded, list) else recorded
    body = {**envelope["body"], "meta": {"result_count": len(envelope["body"]["data"])}}
    (root / "x/2/users/111/tweets/first.json").write_text(
        json.dumps({"status": 200, "headers": {}, "body": body}))
    return root


def empty_pages(root: Path) -> Path:
    """A copy of the recorded pages in which every list endpoint answers no items (single
    objects, the Graph accounts, are kept: configured accounts always have a snapshot)."""
    shutil.copytree(FIXTURES / "api", root)
    for path in root.rglob("*.json"):
        recorded = json.loads(path.read_text())
        body = (recorded[-1] if isinstance(recorded, list) else recorded)["body"]
        if isinstance(body, list):  # Mastodon
            body = []
        elif path.relative_to(root).parts[0] == "x":
            body = {"meta": {"result_count": 0}}
        elif "data" in body:  # Graph edges
            body = {"data": []}
        path.write_text(json.dumps({"status": 200, "headers": {}, "body": body}))
    return root


def night(source: str, pages: Path, warehouse: Path) -> None:
    """The configured ``source`` loaded from ``pages`` into ``warehouse``."""
    with ReplayServer(pages) as server, pytest.MonkeyPatch.context() as mp:
        _isolate(mp, warehouse)
        configure(mp, server.url)
        pipelines.run(source)


def not_configured(source: str, warehouse: Path) -> None:
    """The night of a source that is not configured: its tables, no rows."""
    with pytest.MonkeyPatch.context() as mp:
        _isolate(mp, warehouse)
        pipelines.ensure_warehouse_dir()
        pipelines.make_pipeline(source).run(pipelines.schema_only(source))


def _isolate(mp: pytest.MonkeyPatch, warehouse: Path) -> None:
    for key in [k for k in os.environ if k.startswith("SOURCES__")]:
        mp.delenv(key)
    mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """The warehouse of a real night of a source (every raw table has rows), loaded once."""
    made: dict[str, Path] = {}

    def warehouse(source: str) -> Path:
        if source not in made:
            root = tmp_path_factory.mktemp(f"loaded_{source}")
            night(source, pages_with_own_tweets(root / "pages"), root / "rapport.duckdb")
            made[source] = root / "rapport.duckdb"
        return made[source]

    return warehouse


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """A warehouse where no source is configured, after ``dbt build`` of every staging
    model on it, and dbt's result per node."""
    root = tmp_path_factory.mktemp("unconfigured")
    warehouse = root / "rapport.duckdb"
    for source in pipelines.SOURCES:
        not_configured(source, warehouse)
    dbt = Path(sys.executable).parent / "dbt"
    target = root / "dbt_target"
    result = subprocess.run(
        [str(dbt), "build", "--profiles-dir", ".", "--target-path", str(target),
         "--select", *(f"staging.{s}" for s in pipelines.SOURCES)],
        cwd=REPO_ROOT / "dbt_project", env={**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True, timeout=600)
    results = json.loads((target / "run_results.json").read_text())["results"]
    assert result.returncode == 0, result.stdout[-4000:]
    return warehouse, {r["unique_id"]: r["status"] for r in results}


@pytest.mark.parametrize("source", API_SOURCES)
def test_schema_only_creates_every_dbt_source_table_with_its_declaredcolumns(
        unconfigured: tuple[Path, dict], source: str) -> None:
    warehouse, _ = unconfigured
    found = columns(warehouse, source)
    tables = dbt_source_tables(source)
    assert set(tables) == set(DECLARED[source])  # one declaration per raw table dbt reads
    for table in tables:
        wanted = {c: DUCKDB_TYPES[t] for c, t in DECLARED[source][table].items()} | LINEAGE
        assert {c: found.get((table, c), ("missing",))[0] for c in wanted} == wanted, table
    assert query(warehouse, f"select count(*) from {pipelines.dataset_name(source)}."
                            f"{tables[0]}") == [(0,)]


@pytest.mark.parametrize("source", API_SOURCES)
def test_staging_of_a_source_that_is_not_configured_builds_with_zero_rows(
        unconfigured: tuple[Path, dict], source: str) -> None:
    warehouse, statuses = unconfigured
    models = [f"model.rapport.{p.stem}" for p in (STAGING / source).glob("stg_*.sql")]
    assert models and {m: statuses.get(m) for m in models} == dict.fromkeys(models, "success")
    tests = [k for k in statuses if k.startswith("test.") and f"stg_{source}__" in k]
    assert tests and {statuses[t] for t in tests} == {"pass"}
    for model in models:
        assert query(warehouse, f"select count(*) from staging.{model.split('.')[-1]}") \
            == [(0,)]


def test_schema_only_has_the_sources_resources_and_hints_and_reads_no_settings(
        monkeypatch: pytest.MonkeyPatch, isolated_env: Path) -> None:
    for source, factory in pipelines.SOURCES.items():
        real = {name: r.compute_table_schema() for name, r in factory().resources.items()}
        # settings that could not even be read do not matter: none is looked up
        monkeypatch.setenv(f"SOURCES__{source.upper()}__MAX_ATTEMPTS", "not a number")
        monkeypatch.setenv(f"SOURCES__{source.upper()}__BUCKET_URL", "s3://nowhere")
        empty = pipelines.schema_only(source)
        assert empty.name == source
        assert {n: r.compute_table_schema() for n, r in empty.resources.items()} == real


@pytest.mark.parametrize("source", API_SOURCES)
def test_declared_types_are_the_types_a_real_load_gives(
        loaded: Callable[[str], Path], source: str) -> None:
    found = columns(loaded(source), source)
    for table, declared in DECLARED[source].items():
        for column, data_type in {**declared, **dict.fromkeys(LINEAGE, "text")}.items():
            assert found.get((table, column), ("missing",))[0] == DUCKDB_TYPES[data_type], \
                (table, column)


@pytest.mark.parametrize("source", API_SOURCES)
def test_a_night_with_rows_after_schema_only_lands_as_it_would_have(
        loaded: Callable[[str], Path], tmp_path: Path, source: str) -> None:
    warehouse = tmp_path / "rapport.duckdb"
    not_configured(source, warehouse)
    night(source, pages_with_own_tweets(tmp_path / "pages"), warehouse)
    assert columns(warehouse, source) == columns(loaded(source), source)
    assert not [c for _, c in columns(warehouse, source) if "__v_" in c]
    assert query(warehouse, f"select count(*) from {pipelines.dataset_name(source)}."
                            f"{dbt_source_tables(source)[0]}") \
        == query(loaded(source), f"select count(*) from {pipelines.dataset_name(source)}."
                         f"{dbt_source_tables(source)[0]}")


@pytest.mark.parametrize("source", API_SOURCES)
def test_an_empty_night_after_rows_keeps_every_column_and_type(
        loaded: Callable[[str], Path], tmp_path: Path, source: str) -> None:
    warehouse = tmp_path / "rapport.duckdb"
    night(source, pages_with_own_tweets(tmp_path / "pages"), warehouse)
    night(source, empty_pages(tmp_path / "empty"), warehouse)
    not_configured(source, warehouse)
    assert columns(warehouse, source) == columns(loaded(source), source)


@pytest.mark.parametrize("source", API_SOURCES)
def test_a_configured_night_whose_endpoints_return_nothing_leaves_every_table(
        tmp_path: Path, source: str) -> None:
    warehouse = tmp_path / "rapport.duckdb"
    night(source, empty_pages(tmp_path / "empty"), warehouse)
    found = columns(warehouse, source)
    for table, declared in DECLARED[source].items():
        wanted = {c: DUCKDB_TYPES[t] for c, t in declared.items()} | LINEAGE
        assert {c: found.get((table, c), ("missing",))[0] for c in wanted} == wanted, table


@pytest.mark.parametrize(("source", "setting", "table"), [
    ("x", "SEARCH_QUERY", "search_results"), ("mastodon", "HASHTAGS", "tag_statuses")])
def test_a_resource_switched_off_by_its_setting_still_leaves_its_table(
        tmp_path: Path, source: str, setting: str, table: str) -> None:
    warehouse = tmp_path / "rapport.duckdb"
    with ReplayServer(FIXTURES / "api") as server, pytest.MonkeyPatch.context() as mp:
        _isolate(mp, warehouse)
        configure(mp, server.url)
        mp.delenv(f"SOURCES__{source.upper()}__{setting}")
        pipelines.run(source)
    found = columns(warehouse, source)
    assert {c for t, c in found if t == table} >= set(DECLARED[source][table])
    assert query(warehouse, f"select count(*) from raw_{source}.{table}") == [(0,)]
