"""Ingestion throughput against DuckDB's own readers, on the same demo payloads, in one run.

    .venv/bin/rapport generate --out /tmp/sources/bench --interactions 200000
    .venv/bin/python benchmarks/ingest_throughput.py --data /tmp/sources/bench

For each path it prints rows/s of DuckDB reading the payload files directly (``read_json`` on
the recorded X pages, ``read_csv`` on the inbox exports) next to rows/s of the production
source loading the same payloads into a scratch warehouse (the API source through the
loopback replay server, as the demo runs it), and the ratio between the two.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb


def duckdb_json_rows(pages: list[Path], con: duckdb.DuckDBPyConnection) -> tuple[int, float]:
    """Rows of ``body.data`` across recorded X pages, loaded by DuckDB's read_json."""
    files = [str(p) for p in pages]
    started = time.perf_counter()
    con.execute("create or replace table bench_x as select unnest(body.data, recursive := true) "
                "from read_json(?, format = 'auto', union_by_name = true) "
                "where body.data is not null", [files])
    seconds = time.perf_counter() - started
    return con.execute("select count(*) from bench_x").fetchall()[0][0], seconds


def duckdb_csv_rows(files: list[Path], con: duckdb.DuckDBPyConnection) -> tuple[int, float]:
    """Rows of the inbox exports, loaded by DuckDB's read_csv."""
    started = time.perf_counter()
    con.execute("create or replace table bench_inbox as select * from read_csv(?, "
                "union_by_name = true)", [[str(f) for f in files]])
    seconds = time.perf_counter() - started
    return con.execute("select count(*) from bench_inbox").fetchall()[0][0], seconds


def source_rows(source: str, table_sql: str, env: dict[str, str], scratch: Path
                ) -> tuple[int, float]:
    """Rows one production source lands in a fresh warehouse, and the seconds it took."""
    from ingestion import pipelines

    os.environ.update(env)
    os.environ["RAPPORT_WAREHOUSE"] = str(scratch / f"{source}.duckdb")
    started = time.perf_counter()
    pipelines.run(source)
    seconds = time.perf_counter() - started
    con = duckdb.connect(os.environ["RAPPORT_WAREHOUSE"], read_only=True)
    try:
        return con.execute(table_sql).fetchall()[0][0], seconds
    finally:
        con.close()


def report(name: str, duck: tuple[int, float], ours: tuple[int, float]) -> None:
    duck_rate, our_rate = duck[0] / duck[1], ours[0] / ours[1]
    print(f"{name:<32} duckdb {duck[0]:>9,} rows {duck_rate:>11,.0f} rows/s | "
          f"source {ours[0]:>9,} rows {our_rate:>11,.0f} rows/s | "
          f"duckdb/source {duck_rate / our_rate:5.1f}x")


def main() -> None:
    """Run both comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="output folder of `rapport generate`")
    args = parser.parse_args()
    payloads = args.data / "payloads"
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer

    scratch = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    con = duckdb.connect(str(scratch / "duckdb.duckdb"))
    try:
        inbox_files = sorted((payloads / "inbox").glob("*.csv"))
        env = demo_environment(payloads, "http://127.0.0.1:9")
        report("inbox exports (file drop)", duckdb_csv_rows(inbox_files, con),
               source_rows("inbox", "select count(*) from raw_inbox.inbox_messages",
                           {k: v for k, v in env.items() if k.startswith("SOURCES__INBOX")},
                           scratch))
        x_pages = sorted(p for p in (payloads / "x").rglob("*.json"))
        with ReplayServer(payloads) as server:
            env = {k: v for k, v in demo_environment(payloads, server.url).items()
                   if k.startswith("SOURCES__X")}
            report("x pages (API via loopback)", duckdb_json_rows(x_pages, con),
                   source_rows("x", "select (select count(*) from raw_x.mentions) + (select "
                               "count(*) from raw_x.posts) + (select count(*) from "
                               "raw_x.search_results) + (select count(*) from raw_x.dm_events)",
                               env, scratch))
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
