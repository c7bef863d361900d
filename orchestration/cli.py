"""`rapport`: generate demo data, serve it, and run the nightly job on it.

    rapport demo [--interactions N] [--seed S]   generate, replay, run the nightly job, summarise
    rapport generate --out DIR [--interactions N] [--seed S]
    rapport replay [--payloads DIR] [--port P]   serve demo payloads for `dagster dev`
    rapport backfill --start DAY --end DAY [--dbt-full-refresh]
                                                 re-read and rebuild days (UTC, end included)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from ingestion.settings import warehouse_path


def _demo_dir() -> Path:
    return warehouse_path().parent / "demo"


def generate(args: argparse.Namespace) -> None:
    from ingestion.demo.generator import generate as run_generator

    out = Path(args.out) if args.out else _demo_dir()
    started = time.perf_counter()
    summary = run_generator(out, seed=args.seed, interactions=args.interactions,
                            days=args.days, page_size=args.page_size)
    print(f"demo data: {summary.interactions:,} interactions, {summary.people:,} people, "
          f"{summary.conversations:,} conversations in {time.perf_counter() - started:.1f}s "
          f"-> {out}")


def run_nightly() -> bool:
    """Execute the real nightly job in this process; True if it succeeded.

    A failed night is recorded in the serving status (as the failure sensor does for runs
    launched by the Dagster daemon), so BI sees that its data is from the last good night.
    """
    return _execute("nightly")


def run_backfill(start: str, end: str, dbt_full_refresh: bool = False) -> bool:
    """Execute the real backfill job for the days ``start``..``end`` (UTC, both included)
    in this process; True if it succeeded. The same as launching it from the Dagster UI."""
    return _execute("backfill", {"start": start, "end": end,
                                 "dbt_full_refresh": dbt_full_refresh})


def _execute(job: str, run_config: dict | None = None) -> bool:
    from dagster import DagsterInstance

    from ingestion.settings import serving_dir
    from orchestration.definitions import defs
    from orchestration.serving import record_failure

    if os.environ.get("DAGSTER_HOME"):
        instance = DagsterInstance.get()
    else:
        instance = DagsterInstance.ephemeral()
    result = defs.resolve_job_def(job).execute_in_process(run_config=run_config,
                                                         instance=instance,
                                                         raise_on_error=False)
    if not result.success:
        failed = sorted({e.step_key for e in result.all_events if e.is_step_failure})
        record_failure(serving_dir(), result.run_id,
                       f"{job} run {result.run_id} failed in {', '.join(failed) or 'a step'}")
    return result.success


def backfill(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    ok = run_backfill(args.start, args.end, args.dbt_full_refresh)
    print(f"backfill {args.start}..{args.end} {'succeeded' if ok else 'FAILED'} in "
          f"{time.perf_counter() - started:.0f}s")
    return 0 if ok else 1


def demo(args: argparse.Namespace) -> int:
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer

    args.out = None
    generate(args)
    payloads = _demo_dir() / "payloads"
    with ReplayServer(payloads) as server:
        os.environ.update(demo_environment(payloads, server.url))
        started = time.perf_counter()
        ok = run_nightly()
        print(f"nightly job {'succeeded' if ok else 'FAILED'} in "
              f"{time.perf_counter() - started:.0f}s")
    if ok:
        print_summary()
    return 0 if ok else 1


def print_summary() -> None:
    """Rows per mart, MRMs and first response times, read from the warehouse."""
    import duckdb

    con = duckdb.connect(str(warehouse_path()), read_only=True)
    try:
        print(f"\nwarehouse: {warehouse_path()}")
        tables = con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by table_name").fetchall()
        print("rows per mart:")
        for (table,) in tables:
            n = con.execute(f'select count(*) from marts."{table}"').fetchall()[0][0]
            print(f"  {table:<32} {n:>10,}")
        mrm = con.execute(
            "select team, sum(tagged_mrms), sum(detected_mrms), sum(mrms) "
            "from marts.mart_mrm_daily group by team order by team").fetchall()
        print("MRMs (tagged / detected / either): " + ", ".join(
            f"{team} {int(t)}/{int(d)}/{int(n)}" for team, t, d, n in mrm))
        alerts = con.execute("select severity, count(*) from marts.mart_alerts "
                             "group by severity order by severity").fetchall()
        print("alerts: " + (", ".join(f"{n} {sev}" for sev, n in alerts) or "none"))
        frt = con.execute(
            "select channel, count(*), median(first_response_minutes) "
            "from marts.fct_conversations where first_response_minutes is not null "
            "group by channel order by channel").fetchall()
        print("median first response (minutes): " + ", ".join(
            f"{channel} {minutes:.0f} (n={n})" for channel, n, minutes in frt))
    finally:
        con.close()
    from ingestion.settings import serving_dir
    from orchestration.serving import read_status

    status = read_status(serving_dir())
    print(f"published for BI: {serving_dir()} (at {status.published_at}, data as of "
          f"{status.data_as_of})")


def replay(args: argparse.Namespace) -> int:
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer

    payloads = Path(args.payloads) if args.payloads else _demo_dir() / "payloads"
    if not payloads.is_dir():
        print(f"no demo payloads at {payloads}: run `rapport generate` first", file=sys.stderr)
        return 2
    server = ReplayServer(payloads, port=args.port).start()
    print(f"replaying {payloads} at {server.url}; settings for the sources:")
    for key, value in demo_environment(payloads, server.url).items():
        print(f"export {key}='{value}'")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("demo", "generate"):
        p = sub.add_parser(name)
        p.add_argument("--interactions", type=int, default=5000,
                       help="about how many interactions to generate (default 5000)")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--days", type=int, default=56)
        p.add_argument("--page-size", type=int, default=100)
        if name == "generate":
            p.add_argument("--out", help="output folder (default: warehouse/demo)")
    p = sub.add_parser("replay")
    p.add_argument("--payloads")
    p.add_argument("--port", type=int, default=8765)
    p = sub.add_parser("backfill", help="re-read and rebuild a range of days")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--end", required=True, help="last day, included, YYYY-MM-DD (UTC)")
    p.add_argument("--dbt-full-refresh", action="store_true",
                   help="rebuild the incremental dbt models from scratch as well")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args)
        return 0
    return {"demo": demo, "replay": replay, "backfill": backfill}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
