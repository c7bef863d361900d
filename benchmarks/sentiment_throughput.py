"""Messages/s of sentiment scoring through the warehouse: the real int_message_sentiment dbt
model on a scratch DuckDB file holding N messages.

    .venv/bin/python benchmarks/sentiment_throughput.py [--messages 100000] [--lang-share 1.0]
        [--repeat N] [TEXTS...]

The messages are the lines of TEXTS (labelled data set files, e.g. the TweetEval and SB10k
text files of warehouse/sentiment_data/; default: the shared training splits), repeated with a
running number appended so no two texts are equal (a night holds few exact repeats; the
scorer's word caches still profit from the shared vocabulary, as on real nights).
``--lang-share`` is the share of messages that carry the platform's language field (X and
Mastodon send one; Facebook and Instagram do not, and those are detected). It runs
`dbt run --select int_message_sentiment` (a full build: every message is new) and an empty
`dbt run` of another model for dbt's own start-up, and prints for each the wall time, the CPU
time (user + system) and the peak RSS of the dbt process, then messages per CPU-second and
per wall second with and without that start-up. The CPU figures count the dbt process alone,
so they hold on a machine others share, where wall time is noise; dbt runs a Python model on
one thread, so messages per CPU-second is the figure per core.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.labelled_data import read_data_sets  # noqa: E402

DEFAULT_TEXTS = (REPO.parent / "shared" / "data" / "sentiment" / "en_tweeteval_val",
                 REPO.parent / "shared" / "data" / "sentiment" / "de_sb10k_umsab")


class Run(NamedTuple):
    """One dbt process: wall seconds, CPU seconds (user + system) and peak RSS in MB."""

    wall: float
    cpu: float
    peak_mb: float


def _dbt(args: list[str], warehouse: Path, scratch: Path) -> Run:
    """Run dbt in a child process; its CPU time and peak RSS come from wait4's rusage, so
    they count that process only, not this one or the other users of a shared machine."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dbt"), *args, "--profiles-dir", ".",
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"),
         "--quiet"],
        cwd=REPO / "dbt_project", env={**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)})
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, process.args)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("texts", nargs="*", type=Path, default=list(DEFAULT_TEXTS))
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--lang-share", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs of the dbt start-up and of the model, each paired; the "
                             "figures are the median run's (wall and CPU time vary here by "
                             "10-30%% between runs of the same code)")
    args = parser.parse_args(argv)
    pool = [(text, data_set.lang) for path in args.texts
            for data_set in read_data_sets(str(path)) for text in data_set.texts if text]
    if not pool:
        raise SystemExit("no texts in the given files")
    with_lang = round(args.messages * args.lang_share)
    rows = [(f"bench:{i}", f"{pool[i % len(pool)][0]} {i}",
             pool[i % len(pool)][1] if i < with_lang else None)
            for i in range(args.messages)]
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        warehouse = scratch / "bench.duckdb"
        con = duckdb.connect(str(warehouse))
        con.execute("create schema intermediate")
        con.execute("create table intermediate.int_messages "
                    "(message_key varchar, text varchar, lang varchar)")
        con.executemany("insert into intermediate.int_messages values (?, ?, ?)", rows)
        con.close()
        _dbt(["seed", "--select", "sentiment_lexicon_overrides"], warehouse, scratch)
        pairs = []
        for _ in range(max(args.repeat, 1)):
            startup = _dbt(["run", "--select", "sentiment_lexicon_overrides", "--empty"],
                           warehouse, scratch)
            run = _dbt(["run", "--select", "int_message_sentiment", "--full-refresh"],
                       warehouse, scratch)
            pairs.append((run.cpu - startup.cpu, run, startup))
        pairs.sort(key=lambda pair: pair[0])
        _, run, startup = pairs[len(pairs) // 2]
        con = duckdb.connect(str(warehouse), read_only=True)
        (scored,) = con.execute(
            "select count(*) from intermediate.int_message_sentiment").fetchone()
        con.close()
    if scored != args.messages:
        raise SystemExit(f"{scored} of {args.messages} messages scored")
    print(f"messages {args.messages:,} (language field on {args.lang_share:.0%}), "
          f"texts from {len(pool):,} distinct lines")
    if len(pairs) > 1:
        print(f"median of {len(pairs)} runs; msg per CPU-second without dbt's start-up, each "
              "run: " + ", ".join(f"{args.messages / max(cpu, 1e-9):,.0f}"
                                  for cpu, _, _ in pairs))
    n = args.messages
    print(f"dbt run int_message_sentiment: {run.wall:.1f} s wall, {run.cpu:.1f} CPU-s, "
          f"peak RSS {run.peak_mb:,.0f} MB; dbt start-up (empty run) {startup.wall:.1f} s "
          f"wall, {startup.cpu:.1f} CPU-s, peak RSS {startup.peak_mb:,.0f} MB")
    print(f"per CPU-second: {n / run.cpu:,.0f} msg including dbt, "
          f"{n / max(run.cpu - startup.cpu, 1e-9):,.0f} msg without its start-up")
    print(f"per wall second: {n / run.wall:,.0f} msg/s including dbt, "
          f"{n / max(run.wall - startup.wall, 1e-9):,.0f} msg/s without its start-up")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
