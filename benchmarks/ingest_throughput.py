"""Ingestion throughput against DuckDB's own readers, on the same demo payloads, in one run.

    .venv/bin/rapport generate --out /tmp/bench --interactions 1000000
    .venv/bin/python benchmarks/ingest_throughput.py --data /tmp/bench

For each path it prints rows/s of DuckDB reading the payload files directly (``read_json`` on
the recorded API pages, ``read_csv`` on the inbox exports) next to rows/s of the production
source loading the same payloads into a scratch warehouse, and the ratio between the two.
The API sources read their pages over HTTP from the replay server, started as a separate
process as a real API would be; their seconds are split into dlt's extract (HTTP, item
screening, Arrow tables), normalize and load steps, and the seconds spent waiting for the
API's answers are shown apart (the ratio is printed with and without them).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import duckdb

# Per API source: the recorded pages' item list (DuckDB side) and its raw tables (our side).
API_SOURCES = {
    "x": ("body.data", ("mentions", "posts", "search_results", "dm_events")),
    "mastodon": ("body", ("notifications", "statuses", "tag_statuses", "conversations")),
}


def duckdb_json_rows(pages: list[Path], items: str, con: duckdb.DuckDBPyConnection
                     ) -> tuple[int, float]:
    """Items across recorded pages (``items`` names the list in each envelope), loaded by
    DuckDB's read_json as flat columns."""
    started = time.perf_counter()
    con.execute(f"create or replace table bench_json as select unnest({items}, "
                "recursive := true) from read_json(?, format = 'auto', union_by_name = true, "
                "maximum_object_size = 67108864) "
                f"where {items} is not null", [[str(p) for p in pages]])
    seconds = time.perf_counter() - started
    return con.execute("select count(*) from bench_json").fetchall()[0][0], seconds


def duckdb_csv_rows(files: list[Path], con: duckdb.DuckDBPyConnection) -> tuple[int, float]:
    """Rows of the inbox exports, loaded by DuckDB's read_csv."""
    started = time.perf_counter()
    con.execute("create or replace table bench_inbox as select * from read_csv(?, "
                "union_by_name = true)", [[str(f) for f in files]])
    seconds = time.perf_counter() - started
    return con.execute("select count(*) from bench_inbox").fetchall()[0][0], seconds


def source_rows(source: str, tables: tuple[str, ...], env: dict[str, str], scratch: Path
                ) -> tuple[int, float, dict[str, float]]:
    """Rows one production source lands in a fresh warehouse, its seconds, and the seconds of
    each dlt step."""
    from ingestion import pipelines
    from ingestion.sources.rest import REQUEST_STATS, RequestStats

    REQUEST_STATS.pop(source, None)
    os.environ.update(env)
    os.environ["RAPPORT_WAREHOUSE"] = str(scratch / source / "rapport.duckdb")
    pipelines.ensure_warehouse_dir()
    pipeline = pipelines.make_pipeline(source)
    steps: dict[str, float] = {}
    started = time.perf_counter()
    for step, run in (("extract", lambda: pipeline.extract(pipelines.SOURCES[source]())),
                      ("normalize", pipeline.normalize), ("load", pipeline.load)):
        began = time.perf_counter()
        run()
        steps[step] = time.perf_counter() - began
    seconds = time.perf_counter() - started
    api = REQUEST_STATS.get(source, RequestStats())
    if api.requests:
        steps[f"waiting on the API ({api.requests:,} requests)"] = api.seconds
    con = duckdb.connect(os.environ["RAPPORT_WAREHOUSE"], read_only=True)
    try:
        rows = sum(con.execute(f"select count(*) from raw_{source}.{t}").fetchall()[0][0]
                   for t in tables)
    finally:
        con.close()
    return rows, seconds, steps


def report(name: str, duck: tuple[int, float], ours: tuple[int, float, dict[str, float]]
           ) -> None:
    duck_rate, our_rate = duck[0] / duck[1], ours[0] / ours[1]
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in ours[2].items())
    print(f"{name}\n  duckdb {duck[0]:>9,} rows {duck[1]:6.1f}s {duck_rate:>9,.0f} rows/s\n"
          f"  source {ours[0]:>9,} rows {ours[1]:6.1f}s {our_rate:>9,.0f} rows/s ({steps})\n"
          f"  duckdb/source {duck_rate / our_rate:4.1f}x", end="")
    waited = next((v for k, v in ours[2].items() if k.startswith("waiting")), 0.0)
    if waited:
        ours_alone = ours[0] / (ours[1] - waited)
        print(f"; without the API's own time {duck_rate / ours_alone:4.1f}x", end="")
    print(flush=True)


class ReplayProcess:
    """The demo replay server in a process of its own (a real API is not in our process)."""

    def __init__(self, payloads: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        # `rapport replay`, as a data engineer runs it for `dagster dev`
        self._process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.cli", "replay",
             "--payloads", str(payloads), "--port", str(self.port)],
            stdout=subprocess.DEVNULL)

    def __enter__(self) -> ReplayProcess:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=1)
            except urllib.error.HTTPError:
                return self  # answering (404 for the root)
            except OSError:
                time.sleep(0.1)
            else:
                return self
        raise RuntimeError("replay server did not start within 30 s")

    def __exit__(self, *exc: object) -> None:
        self._process.terminate()
        self._process.wait(timeout=10)


def main() -> None:
    """Run the comparisons and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, required=True,
                        help="output folder of `rapport generate`")
    args = parser.parse_args()
    payloads = args.data / "payloads"
    from ingestion.demo.config import demo_environment

    scratch = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    con = duckdb.connect(str(scratch / "duckdb.duckdb"))
    try:
        inbox_files = sorted((payloads / "inbox").glob("*.csv"))
        env = demo_environment(payloads, "http://127.0.0.1:9")
        report("inbox exports (file drop)", duckdb_csv_rows(inbox_files, con),
               source_rows("inbox", ("inbox_messages",),
                           {k: v for k, v in env.items() if k.startswith("SOURCES__INBOX")},
                           scratch))
        with ReplayProcess(payloads) as server:
            env = demo_environment(payloads, server.url)
            for source, (items, tables) in API_SOURCES.items():
                pages = sorted((payloads / source).rglob("*.json"))
                prefix = f"SOURCES__{source.upper()}"
                report(f"{source} pages (API over HTTP)", duckdb_json_rows(pages, items, con),
                       source_rows(source, tables,
                                   {k: v for k, v in env.items() if k.startswith(prefix)},
                                   scratch))
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
