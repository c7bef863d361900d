"""What a BI tool reads from the published serving file, read by a separate process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.conftest import DemoRun

REPO = Path(__file__).resolve().parents[1]


def _serving_file(demo_run: DemoRun) -> Path:
    return demo_run.warehouse.parent / "serving" / "rapport_serving.duckdb"


def test_the_daily_interactions_mart_adds_up_to_every_interaction(demo_run: DemoRun) -> None:
    with duckdb.connect(str(_serving_file(demo_run)), read_only=True) as con:
        from_mart = con.execute(
            "select date_day, platform, direction, sum(interactions), sum(scored_messages), "
            "sum(negative_messages), sum(spam) from marts.mart_interactions_daily "
            "group by all order by all").fetchall()
        from_facts = con.execute(
            "select created_on, platform, direction, count(*), count(sentiment_label), "
            "count(*) filter (where sentiment_label = 'negative'), "
            "count(*) filter (where relevance = 'spam') from marts.fct_interactions "
            "group by all order by all").fetchall()
    assert from_mart == from_facts
    assert sum(row[3] for row in from_mart) == demo_run.query(
        "select count(*) from marts.fct_interactions")[0][0]


def test_bi_benchmark_times_every_dashboard_query_on_the_serving_file(
        demo_run: DemoRun, tmp_path: Path) -> None:
    out = tmp_path / "bi.json"
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bi_queries.py"),
         "--serving", str(_serving_file(demo_run).parent), "--repeat", "3", "--json", str(out)],
        capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    queries = figures["queries"]
    for name in ("mrms_per_team_per_week", "first_response_per_channel_30d", "top_contacts",
                 "segments", "share_of_voice_per_day", "post_engagement_30d",
                 "interactions_per_day_platform"):
        assert queries[name]["rows"] > 0, name
        assert queries[name]["p50_ms"] > 0, name
        assert f"{name} " in done.stdout
    # the tile read from the mart answers what the scan of fct_interactions answers
    assert (queries["interactions_per_day_platform"]["rows"]
            == queries["interactions_per_day_platform_scan"]["rows"])
    assert figures["interactions"] == demo_run.query(
        "select count(*) from marts.fct_interactions")[0][0]


def test_bi_benchmark_without_a_published_night_says_what_to_do(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bi_queries.py"), "--serving", str(tmp_path)],
        capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "no serving file" in done.stderr and "make demo" in done.stderr


def test_the_contract_travels_with_the_published_data(demo_run: DemoRun) -> None:
    from orchestration.contracts import mart_docs
    from orchestration.resources import dbt_project

    docs = mart_docs(dbt_project.manifest_path)
    serving = _serving_file(demo_run)
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = dict(con.execute(
            "select table_name, comment from duckdb_tables() where schema_name = 'marts'"
        ).fetchall())
        columns = con.execute(
            "select table_name, column_name, comment, is_nullable from duckdb_columns() "
            "where schema_name = 'marts'").fetchall()
        parquet = {}
        for mart in tables:
            path = serving.parent / "parquet" / "current" / f"{mart}.parquet"
            parquet[mart] = {k.decode(): v.decode() for k, v in con.execute(
                "select key, value from parquet_kv_metadata(?)", [str(path)]).fetchall()}
    assert set(tables) == set(docs) and "mart_interactions_daily" in tables
    for mart, comment in tables.items():
        assert comment == docs[mart].description != "", mart
        assert parquet[mart]["description"] == docs[mart].description, mart
    described = [(t, c) for t, c, _, _ in columns if docs[t].columns.get(c)]
    assert len(described) > 150
    for table, column, comment, nullable in columns:
        if docs[table].columns.get(column):
            assert comment == docs[table].columns[column], (table, column)
            assert parquet[table][f"column:{column}"] == comment, (table, column)
        assert nullable == (column not in docs[table].not_null), (table, column)
    assert "interaction_id" in docs["fct_interactions"].not_null
    assert "conversation_id" not in docs["fct_interactions"].not_null
