"""What compacting the warehouse costs (``ingestion.purge.compact_warehouse``, run by the purge
asset after a purge that changed anything).

    .venv/bin/python benchmarks/compact_warehouse.py [--rows 1000000] [--path FILE]

Builds a DuckDB file with ``--rows`` message-like rows (an id, a time and a 200-character text
each), overwrites the text of 1% of them the way the purge does (an UPDATE writes new blocks
and leaves the old ones in the file), then compacts the file. Prints the file size before and
after and the seconds the compaction took. That no purged text is left is tested, with a byte
scan, by tests/test_erasure_on_disk.py (here the texts are stored compressed, so a byte scan
would prove nothing).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb

from ingestion.purge import PURGED_TEXT, compact_warehouse


def build(path: Path, rows: int) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema raw_x")
        con.execute(f"""create table raw_x.posts as
            select i::varchar as id, timestamp '2026-01-01' + to_seconds(i) as created_at,
                   repeat(md5(i::varchar), 6) || i as text
            from range({rows}) t(i)""")
        con.execute("checkpoint")
        con.execute("update raw_x.posts set text = ? where (id::bigint) % 100 = 7",
                    [PURGED_TEXT])
        con.execute("checkpoint")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--path", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.path or Path(tmp) / "rapport.duckdb"
        build(path, args.rows)
        started = time.perf_counter()
        before, after = compact_warehouse(path)
        seconds = time.perf_counter() - started
    print(f"rows: {args.rows:,} (1% overwritten)")
    print(f"file: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB")
    print(f"compaction: {seconds:.2f} s ({before / 1e6 / seconds:.0f} MB/s of the old file)")


if __name__ == "__main__":
    main()
