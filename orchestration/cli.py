"""`rapport`: run the nightly job on your sources, check their settings, or try the demo.

    rapport check [--demo]                       check every setting a night needs; run nothing
    rapport run [--demo]                         run tonight's job now on the configured sources
    rapport backfill --start DAY --end DAY [--dbt-full-refresh] [--demo]
                                                 re-read and rebuild days (UTC, end included)
    rapport demo [--interactions N] [--seed S]   generate demo data, run the job on it, summarise
    rapport generate --out DIR [--interactions N] [--seed S]
    rapport replay [--payloads DIR] [--port P]   serve demo payloads for `make dev`
    rapport sentiment [--lang xx] < in.jsonl     score JSON lines ({"text", "lang"?, "id"?})
                                                 as the warehouse does: adds label, score, lang

Runs go through the Dagster instance in $DAGSTER_HOME (default: the project's dagster_home/),
so they show in the Dagster UI and share its one-writer pool. Exit codes: 0 done, 1 the night
failed, 2 configuration or usage error (nothing run), 3 another night holds the warehouse.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ingestion.settings import warehouse_path
from orchestration.runs import HOST_TAG, LAUNCHED_BY, PID_TAG

if TYPE_CHECKING:
    from dagster import DagsterInstance, ExecuteInProcessResult


def _demo_dir() -> Path:
    return warehouse_path().parent / "demo"


def generate(args: argparse.Namespace) -> None:
    from ingestion.demo.generator import generate as run_generator

    out = Path(args.out) if args.out else _demo_dir()
    started = time.perf_counter()
    try:
        summary = run_generator(out, seed=args.seed, interactions=args.interactions,
                                days=args.days, page_size=args.page_size)
    except ValueError as error:  # a size the stories cannot be played in: a usage error
        print(f"rapport {args.command}: error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
    print(f"demo data: {summary.interactions:,} interactions, {summary.people:,} people, "
          f"{summary.conversations:,} conversations in {time.perf_counter() - started:.1f}s "
          f"-> {out}")


def run_nightly(instance: DagsterInstance | None = None) -> bool:
    """Execute the real nightly job in this process; True if it succeeded.

    A failed night is recorded in the serving status (as the failure sensor does for runs
    launched by the Dagster daemon), so BI sees that its data is from the last good night.
    """
    return _execute("nightly", instance=instance).success


def run_backfill(start: str, end: str, dbt_full_refresh: bool = False,
                 instance: DagsterInstance | None = None) -> bool:
    """Execute the real backfill job for the days ``start``..``end`` (UTC, both included)
    in this process; True if it succeeded. The same as launching it from the Dagster UI."""
    return _execute("backfill", {"start": start, "end": end,
                                 "dbt_full_refresh": dbt_full_refresh},
                    instance=instance).success


def _execute(job: str, run_config: dict | None = None, instance: DagsterInstance | None = None,
             run_id: str | None = None) -> ExecuteInProcessResult:
    """Run ``job`` in this process on ``instance`` (default: ``$DAGSTER_HOME``'s, else an
    ephemeral one); a failure that is not a configuration problem is recorded for BI."""
    from dagster import DagsterInstance

    from ingestion.settings import serving_dir
    from orchestration.definitions import defs
    from orchestration.preflight import configuration_problems
    from orchestration.serving import record_failure

    if instance is None:
        instance = (DagsterInstance.get() if os.environ.get("DAGSTER_HOME")
                    else DagsterInstance.ephemeral())
    result = defs.resolve_job_def(job).execute_in_process(
        run_config=run_config, instance=instance, raise_on_error=False, run_id=run_id,
        tags={LAUNCHED_BY: "rapport-cli", PID_TAG: str(os.getpid()),
              HOST_TAG: socket.gethostname()})
    failures = [e for e in result.all_events if e.is_step_failure]
    if not result.success and not configuration_problems(failures):
        failed = sorted({e.step_key for e in failures})
        record_failure(serving_dir(), result.run_id,
                       f"{job} run {result.run_id} failed in {', '.join(failed) or 'a step'}")
    return result


# --- `rapport run`, `backfill`, `check`: the nightly job on the configured sources ----------

EXIT_FAILED, EXIT_CONFIG, EXIT_BUSY = 1, 2, 3


def project_instance() -> DagsterInstance:
    """The Dagster instance the UI and the daemon use: ``$DAGSTER_HOME``, by default the
    project's ``dagster_home/`` (its dagster.yaml sets the one-writer pool)."""
    from dagster import DagsterInstance

    from ingestion.settings import REPO_ROOT

    os.environ.setdefault("DAGSTER_HOME", str(REPO_ROOT / "dagster_home"))
    Path(os.environ["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    return DagsterInstance.get()


def running_night(instance: DagsterInstance) -> str | None:
    """Why another night holds the warehouse now, or None.

    Runs whose process is gone (killed) are first marked failed, their writer-pool slots
    freed and their interruption recorded for BI (:func:`orchestration.runs.reap_dead_runs`):
    they hold nothing any more, and left alone every later night would wait for the pool."""
    from dagster import DagsterRunStatus, RunsFilter

    from orchestration.runs import NIGHT_JOBS, reap_dead_runs

    reap_dead_runs(instance, by=f"the next `rapport` run on {socket.gethostname()}")
    active = instance.get_runs(RunsFilter(
        job_name=None, statuses=[DagsterRunStatus.STARTING, DagsterRunStatus.STARTED,
                                 DagsterRunStatus.CANCELING]))
    for run in active:
        if run.job_name not in NIGHT_JOBS:
            continue
        record = instance.get_run_record_by_id(run.run_id)
        since = record.start_time if record and record.start_time else None
        when = (datetime.fromtimestamp(since, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                if since else "an unknown time")
        return (f"another night is running since {when} (run {run.run_id}, job "
                f"{run.job_name}); it holds the warehouse: wait for it to finish (Dagster UI, "
                f"Runs) or cancel it there, then run again")
    return None


def warehouse_lock_problem() -> str | None:
    """Why the working warehouse cannot be written now (another process holds it), or None."""
    import duckdb

    from ingestion.pipelines import ensure_warehouse_dir

    ensure_warehouse_dir()
    try:
        duckdb.connect(str(warehouse_path())).close()
    except duckdb.IOException as error:
        holder = re.search(r"\(PID (\d+)\)", str(error))
        return (f"the warehouse {warehouse_path()} is open in another process"
                + (f" (PID {holder.group(1)})" if holder else "")
                + ": close it (BI tools read the serving copy, never the working file)")
    return None


def check(args: argparse.Namespace) -> int:
    """`rapport check`: every setting a night needs, and the schedule's state."""
    from orchestration.preflight import preflight

    with _demo_sources(args):
        report = preflight(getattr(args, "start", None), getattr(args, "end", None))
    print("sources:")
    for line in report.lines():
        print(line)
    instance = project_instance()
    print(f"dagster: {os.environ['DAGSTER_HOME']}")
    print(f"schedule: {schedule_state(instance)}")
    if report.ok:
        print("configuration OK")
        return 0
    print(f"configuration has {len(report.problems)} problem(s): nothing was run")
    return EXIT_CONFIG


def schedule_state(instance: DagsterInstance) -> str:
    """The nightly schedule as the daemon sees it: on or off, and whether a daemon runs."""
    from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType

    name = "nightly_0200_berlin"
    stored = [s for s in instance.all_instigator_state(instigator_type=InstigatorType.SCHEDULE)
              if s.name == name]
    stopped = bool(stored) and stored[0].status == InstigatorStatus.STOPPED
    state = (f"{name} is stopped (turned off in the Dagster UI: Automation, {name})" if stopped
             else f"{name} is on (02:00 Europe/Berlin)")
    beats = [b for b in instance.get_daemon_heartbeats().values()
             if b.daemon_type == "SCHEDULER" and time.time() - b.timestamp < 120]
    return state + ("; the daemon is running" if beats else
                    "; no daemon is running: start `make dev` or `dagster-daemon run` "
                    "(with this DAGSTER_HOME) for it to fire")


def run(args: argparse.Namespace) -> int:
    """`rapport run`: tonight's job on the configured sources, as the schedule runs it."""
    return _night(args, "nightly", None)


def backfill(args: argparse.Namespace) -> int:
    """`rapport backfill`: re-read and rebuild the days ``--start``..``--end``."""
    return _night(args, "backfill", {"start": args.start, "end": args.end,
                                     "dbt_full_refresh": args.dbt_full_refresh})


def _night(args: argparse.Namespace, job: str, run_config: dict | None) -> int:
    from orchestration.preflight import preflight

    window = (run_config or {})
    with _demo_sources(args):
        report = preflight(window.get("start"), window.get("end"))
        if not report.ok:
            print(f"rapport {args.command}: not started, the configuration has "
                  f"{len(report.problems)} problem(s):", file=sys.stderr)
            for problem in report.problems:
                print(f"  - {problem}", file=sys.stderr)
            return EXIT_CONFIG
        instance = project_instance()
        busy = running_night(instance) or warehouse_lock_problem()
        if busy:
            print(f"rapport {args.command}: not started: {busy}", file=sys.stderr)
            return EXIT_BUSY
        used = [c.source for c in report.sources.values() if c.configured]
        skipped = [c.source for c in report.sources.values() if not c.configured]
        print(f"{job}: sources {', '.join(used)}"
              + (f" (not configured, skipped: {', '.join(skipped)})" if skipped else ""))
        result = _launch(job, run_config, instance)
    return 0 if result.success else EXIT_FAILED


@contextmanager
def _demo_sources(args: argparse.Namespace) -> Iterator[None]:
    """With ``--demo``: the demo payloads served on loopback and the sources pointed at them."""
    if not getattr(args, "demo", False):
        yield
        return
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer

    payloads = _demo_dir() / "payloads"
    if not payloads.is_dir():
        raise SystemExit(f"rapport {args.command} --demo: no demo data at {payloads}: run "
                         "`make demo` (or `rapport generate`) first")
    with ReplayServer(payloads) as server:
        os.environ.update(demo_environment(payloads, server.url))
        yield


def _launch(job: str, run_config: dict | None, instance: DagsterInstance
            ) -> ExecuteInProcessResult:
    """Run ``job`` with one progress line per step on the terminal; everything else (dbt's
    and dlt's output, Dagster's debug events) goes to a log file whose path is printed."""
    from ingestion.settings import serving_dir
    from orchestration.progress import Progress, output_to

    run_id = str(uuid.uuid4())
    log = warehouse_path().parent / "logs" / f"{job}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"
    started = time.perf_counter()
    print(f"{job} run {run_id} (Dagster UI: Runs; full log: {log})", flush=True)
    with output_to(log) as terminal, Progress(instance, run_id, terminal):
        result = _execute(job, run_config, instance=instance, run_id=run_id)
    seconds = time.perf_counter() - started
    if result.success:
        from orchestration.serving import read_status

        status = read_status(serving_dir())
        print(f"{job} succeeded in {seconds:.0f}s: published to {serving_dir()} "
              f"(data as of {status.data_as_of})")
    else:
        print(f"{job} FAILED after {seconds:.0f}s; BI keeps the last published night. "
              f"Details: {log}", file=sys.stderr)
    return result


def demo(args: argparse.Namespace) -> int:
    """`rapport demo`: generate the demo data, then `rapport run --demo` and a summary."""
    args.out = None
    generate(args)
    args.demo = True
    code = _night(args, "nightly", None)
    if code == 0:
        print_summary()
    return code


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
        print(f"export {key}={shlex.quote(str(value))}")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


def sentiment(args: argparse.Namespace) -> int:
    """`rapport sentiment`: score JSON lines from stdin with the warehouse's scorer and its
    project settings (dbt vars, overrides seed); each line comes back with ``label``,
    ``score`` and ``lang`` added, or ``error`` if it cannot be scored. ``--lang`` stands in
    for the platform's language field on lines without one."""
    import json

    from analytics.sentiment import project_settings

    try:
        settings = project_settings()
    except (OSError, KeyError, ValueError) as error:
        print(f"rapport sentiment: cannot read the project's sentiment settings: {error!r}",
              file=sys.stderr)
        return EXIT_CONFIG
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
    try:
        for number, raw in enumerate(sys.stdin.buffer, start=1):
            if raw.strip():
                out = _score_line(raw, number, args.lang, settings)
                try:
                    print(json.dumps(out, ensure_ascii=False))
                except UnicodeEncodeError:  # a lone surrogate from a JSON escape
                    print(json.dumps(out))
        sys.stdout.flush()
    except BrokenPipeError:  # the reader stopped early (`| head`): not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _score_line(raw: bytes, number: int, default_lang: str | None, settings) -> dict:
    """One input line as its output object: its fields plus label, score, lang and the three
    label probabilities, or an
    ``error`` (with ``line``, its number, when the line is not a JSON object)."""
    import json

    from analytics.sentiment import score_message

    try:
        item = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return {"line": number, "error": f"not a JSON line: {error}"}
    if not isinstance(item, dict):
        return {"line": number, "error": "not a JSON object"}
    text, lang = item.get("text"), item.get("lang") or default_lang
    if not isinstance(text, str):
        return {**item, "error": "no text (a string field `text` is required)"}
    if not isinstance(lang, str | None):
        return {**item, "error": "`lang` must be a language code (a string)"}
    try:
        result = score_message(text, lang, settings)
    except Exception as error:  # one text must not stop the others
        return {**item, "error": f"could not be scored: {error!r}"}
    return {**item, "label": result.label, "score": result.score, "lang": result.lang,
            "p_negative": result.p_negative, "p_neutral": result.p_neutral,
            "p_positive": result.p_positive}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="rapport", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("demo", "generate"):
        p = sub.add_parser(name, help="generate demo data" + (
            ", run the nightly job on it and summarise" if name == "demo" else ""))
        p.add_argument("--interactions", type=int, default=5000,
                       help="about how many interactions to generate (default 5000)")
        p.add_argument("--seed", type=int, default=42)
        p.add_argument("--days", type=int, default=56)
        p.add_argument("--page-size", type=int, default=100)
        if name == "generate":
            p.add_argument("--out", help="output folder (default: warehouse/demo)")
    p = sub.add_parser("replay", help="serve the demo payloads for `make dev`")
    p.add_argument("--payloads")
    p.add_argument("--port", type=int, default=8765)
    demo_help = "read the demo payloads (served on loopback) instead of the configured sources"
    p = sub.add_parser("check", help="check the configuration a night needs; run nothing")
    p.add_argument("--demo", action="store_true", help=demo_help)
    p = sub.add_parser("run", help="run tonight's job on the configured sources now")
    p.add_argument("--demo", action="store_true", help=demo_help)
    p = sub.add_parser("backfill", help="re-read and rebuild a range of days")
    p.add_argument("--start", required=True, help="first day, YYYY-MM-DD (UTC)")
    p.add_argument("--end", required=True, help="last day, included, YYYY-MM-DD (UTC)")
    p.add_argument("--dbt-full-refresh", action="store_true",
                   help="rebuild the incremental dbt models from scratch as well")
    p.add_argument("--demo", action="store_true", help=demo_help)
    p = sub.add_parser("sentiment", help="score JSON lines from stdin as the warehouse does")
    p.add_argument("--lang", help="language of lines without a `lang` (default: detected)")
    args = parser.parse_args(argv)
    if args.command == "backfill":
        from orchestration.days import window_problem

        problem = window_problem(args.start, args.end)
        if problem:  # refused at once, before Dagster or dlt load: nothing run or recorded
            print(f"rapport backfill: error: {problem}", file=sys.stderr)
            return EXIT_CONFIG
    if args.command == "generate":
        generate(args)
        return 0
    return {"demo": demo, "replay": replay, "check": check, "run": run,
            "backfill": backfill, "sentiment": sentiment}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
