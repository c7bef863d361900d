"""Ingestion throughput against DuckDB's own readers, on the same demo payloads, in one run.

    .venv/bin/rapport generate --out /tmp/bench --interactions 1000000
    .venv/bin/python benchmarks/ingest_throughput.py --data /tmp/bench [--repeat 3]

For each path it prints rows/s of DuckDB reading the payload files directly (``read_json`` on
the recorded API pages, ``read_csv`` / ``read_json`` on the inbox and CRM exports) next to
rows/s of the production source loading the same payloads into a fresh scratch warehouse, and
how many times DuckDB's seconds the source took. Each side runs ``--repeat`` times and the
fastest run is shown (on a shared machine figures vary by tens of percent between runs).
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
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import duckdb

# Per API source: the recorded pages' item list (DuckDB side) and its raw tables (our side).
API_SOURCES = {
    "x": ("body.data", ("mentions", "posts", "search_results", "dm_events")),
    "meta": ("body.data", ("page_posts", "post_comments", "page_conversations",
                           "conversation_messages", "ig_media", "ig_comments", "accounts")),
    "mastodon": ("body", ("notifications", "statuses", "tag_statuses", "conversations")),
}
# Per file source: its raw tables.
FILE_SOURCES = {"inbox": ("inbox_messages",),
                "crm": ("contacts", "lifecycle_stages", "conversions")}
Figures = TypeVar("Figures", bound=tuple)


def duckdb_json_rows(pages: list[Path], items: str, con: duckdb.DuckDBPyConnection
                     ) -> tuple[int, float]:
    """Items across recorded pages (``items`` names the list in each envelope), loaded by
    DuckDB's read_json as flat columns, one read per endpoint (the folder a page is in: posts,
    comments and messages are typed differently; read together their item lists would be
    typed JSON, which cannot be unnested). Single objects (a post, an account) are left out.
    """
    endpoints: dict[str, list[Path]] = {}
    for page in pages:
        # a folder named by an id ("222_1", "17841400000000001") holds one object, no list
        if not any(c.isdigit() for c in page.parent.name):
            endpoints.setdefault(page.parent.name, []).append(page)
    rows, seconds = 0, 0.0
    for group in endpoints.values():
        started = time.perf_counter()
        con.execute(f"create or replace table bench_json as select unnest({items}, "
                    "recursive := true) from read_json(?, format = 'auto', "
                    "union_by_name = true, maximum_object_size = 67108864, sample_size = -1) "
                    f"where {items} is not null", [[str(p) for p in group]])
        seconds += time.perf_counter() - started
        rows += con.execute("select count(*) from bench_json").fetchall()[0][0]
    return rows, seconds


def duckdb_export_rows(files: list[Path], con: duckdb.DuckDBPyConnection
                       ) -> tuple[int, float]:
    """Rows of export files, loaded by DuckDB's read_csv (``.csv``, all of them in one read)
    and read_json (``.jsonl``)."""
    rows, seconds = 0, 0.0
    groups = (("read_csv", [f for f in files if f.suffix == ".csv"]),
              ("read_json", [f for f in files if f.suffix == ".jsonl"]))
    for reader, group in groups:
        if not group:
            continue
        started = time.perf_counter()
        con.execute(f"create or replace table bench_export as select * from {reader}(?, "
                    "union_by_name = true)", [[str(f) for f in group]])
        seconds += time.perf_counter() - started
        rows += con.execute("select count(*) from bench_export").fetchall()[0][0]
    return rows, seconds


def source_rows(source: str, tables: tuple[str, ...], env: dict[str, str], scratch: Path
                ) -> tuple[int, float, dict[str, float]]:
    """Rows one production source lands in a fresh warehouse under ``scratch``, its seconds,
    and the seconds of each dlt step."""
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


def fastest(repeat: int, measure: Callable[[int], Figures]) -> Figures:
    """The fastest of ``repeat`` runs of ``measure(run_number)`` (by its seconds)."""
    return min((measure(run) for run in range(repeat)), key=lambda figures: figures[1])


def report(name: str, duck: tuple[int, float], ours: tuple[int, float, dict[str, float]]
           ) -> None:
    """Both sides' rows and seconds, and the source's seconds over DuckDB's on the same
    payloads (rows can differ: the Meta source also lands the replies nested in Instagram
    comments as rows of their own)."""
    duck_rate, our_rate = duck[0] / duck[1], ours[0] / ours[1]
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in ours[2].items())
    print(f"{name}\n  duckdb {duck[0]:>9,} rows {duck[1]:6.1f}s {duck_rate:>9,.0f} rows/s\n"
          f"  source {ours[0]:>9,} rows {ours[1]:6.1f}s {our_rate:>9,.0f} rows/s ({steps})\n"
          f"  source/duckdb seconds {ours[1] / duck[1]:4.1f}x", end="")
    waited = next((v for k, v in ours[2].items() if k.startswith("waiting")), 0.0)
    if waited:
        print(f"; without the API's own time {(ours[1] - waited) / duck[1]:4.1f}x", end="")
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
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each side; the fastest is shown (default 3)")
    args = parser.parse_args()
    repeat = max(1, args.repeat)
    payloads = args.data / "payloads"
    from ingestion.demo.config import demo_environment

    scratch = Path(tempfile.mkdtemp(prefix="rapport-bench-"))
    con = duckdb.connect(str(scratch / "duckdb.duckdb"))
    con.execute("set enable_progress_bar = false")

    def compare(name: str, source: str, tables: tuple[str, ...], env: dict[str, str],
                duck: Callable[[], tuple[int, float]]) -> None:
        prefix = f"SOURCES__{source.upper()}"
        settings = {k: v for k, v in env.items() if k.startswith(prefix)}
        report(name, fastest(repeat, lambda _: duck()),
               fastest(repeat, lambda run: source_rows(source, tables, settings,
                                                       scratch / f"run{run}")))

    try:
        env = demo_environment(payloads, "http://127.0.0.1:9")
        for source, tables in FILE_SOURCES.items():
            files = sorted(f for f in (payloads / source).iterdir()
                           if f.suffix in (".csv", ".jsonl"))
            compare(f"{source} exports (file drop)", source, tables, env,
                    lambda files=files: duckdb_export_rows(files, con))
        with ReplayProcess(payloads) as server:
            env = demo_environment(payloads, server.url)
            for source, (items, tables) in API_SOURCES.items():
                pages = sorted((payloads / source).rglob("*.json"))
                compare(f"{source} pages (API over HTTP)", source, tables, env,
                        lambda pages=pages, items=items: duckdb_json_rows(pages, items, con))
    finally:
        con.close()
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
