"""The nightly job at scale, next to the plain-DuckDB floor for the same steps (issue 13).

    .venv/bin/python benchmarks/nightly_scale.py --interactions N [--seed S] [--days D]
        [--nights K] [--out DIR] [--reuse] [--json PATH]

1. Generates demo data (``ingestion.demo.generator``) with N interactions into
   ``DIR/data-n<N>-s<S>-d<D>-h<K>`` (``--reuse``: keep it if it is there and complete), holding
   back its last K days when ``--nights K`` is given.
2. Runs the real nightly job as a user does, ``rapport run --demo`` as a subprocess, in a
   scratch run folder ``DIR/run-...`` with its own warehouse, ``DAGSTER_HOME`` and serving
   folder (never the project's ``warehouse/``), sampling the process tree's CPU seconds and
   resident memory with psutil. Per step and phase (ingestion per source, checks, dbt build,
   purge, publish) it reports wall seconds (from the run's Dagster event log), CPU seconds
   and peak RSS (from the samples); per dbt model the execution time dagster-dbt records.
3. Runs the floor on a copy of the raw schemas the night loaded: the plain SQL of
   ``benchmarks/floor/*.sql`` (staging, threading, first response, daily response and MRM
   roll-ups) and serial vaderSentiment over the same message texts, and prints the ratios
   dbt build / floor and whole night / floor.
4. With ``--nights K``: releases one held-back day at a time (``release_day``) and runs a
   night for each, printing its cost relative to the full night.

Prints a compact table; ``--json PATH`` writes every figure (and the machine) as JSON, and
``--print-json PATH`` prints the table of such a file again without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psutil

from ingestion.demo import brand as B
from ingestion.demo.generator import generate, held_back_days, release_day

REPO = Path(__file__).resolve().parent.parent

FLOOR_DIR = Path(__file__).resolve().parent / "floor"
SAMPLE_SECONDS = 0.2
MIB = 1024 * 1024
# Which phase each step of the nightly job belongs to (the rest: a phase of its own name).
PHASES = (("ingest_", "ingestion {}"), ("raw_", "checks"), ("staging_", "checks"),
          ("rapport_dbt_assets", "dbt build"), ("privacy__", "purge"), ("serving__", "publish"))


@dataclass
class Sample:
    """One look at a process tree: when, its CPU seconds so far, its resident memory."""

    at: float
    cpu: float
    rss: int


@dataclass
class Sampler:
    """Samples the CPU seconds and RSS of process ``pid`` and all its descendants.

    A descendant's CPU is counted while it runs (its own times) and, once it has ended and
    been waited for, in its parent's ``children_*`` times, so the sum does not drop when dbt
    or a dlt worker exits.
    """

    pid: int
    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sample = self.sample()
            if sample:
                self.samples.append(sample)
            self._stop.wait(SAMPLE_SECONDS)

    def sample(self) -> Sample | None:
        try:
            root = psutil.Process(self.pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return None
        cpu, rss = 0.0, 0
        for proc in tree:
            try:
                with proc.oneshot():
                    t = proc.cpu_times()
                    cpu += t.user + t.system + t.children_user + t.children_system
                    rss += proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return Sample(time.time(), cpu, rss)

    def between(self, start: float, end: float) -> tuple[float, int]:
        """CPU seconds used and the peak RSS (bytes) between two moments."""
        inside = [s for s in self.samples if start <= s.at <= end]
        before = [s for s in self.samples if s.at <= start]
        after = [s for s in self.samples if s.at >= end]
        first = before[-1] if before else (inside[0] if inside else None)
        last = after[0] if after else (inside[-1] if inside else None)
        cpu = max(last.cpu - first.cpu, 0.0) if first and last else 0.0
        near = inside or [s for s in (first, last) if s]
        return cpu, max((s.rss for s in near), default=0)


def machine() -> dict:
    """The facts a figure needs beside it."""
    import dagster
    from dbt.version import __version__ as dbt_version

    return {"cores": os.cpu_count(), "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
            "python": platform.python_version(), "duckdb": duckdb.__version__,
            "dbt_core": str(dbt_version), "dagster": dagster.__version__,
            "platform": platform.platform(), "load_average_at_start": os.getloadavg(),
            "commit": _git("rev-parse", "--short", "HEAD"),
            # other work in the tree changes what is measured: say so beside the figures
            "uncommitted_dbt_or_code_changes": bool(_git(
                "status", "--porcelain", "--", "dbt_project/models", "dbt_project/macros",
                "dbt_project/seeds", "ingestion", "orchestration", "analytics"))}


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True)
    return done.stdout.strip()


def data_set(args: argparse.Namespace) -> tuple[Path, dict]:
    """The demo data for these settings: generated, or reused when asked and complete."""
    key = f"data-n{args.interactions}-s{args.seed}-d{args.days}-h{args.nights}"
    data = Path(args.out) / key
    done = data / "benchmark_generated.json"
    if args.reuse and done.is_file() and held_back_days(data) == args.nights:
        return data, {**json.loads(done.read_text()), "reused": True}
    started = time.perf_counter()
    summary = generate(data, seed=args.seed, interactions=args.interactions, days=args.days,
                       hold_back_days=args.nights)
    facts = {"interactions": summary.interactions, "people": summary.people,
             "conversations": summary.conversations,
             "generate_seconds": round(time.perf_counter() - started, 1)}
    done.write_text(json.dumps(facts) + "\n")
    return data, {**facts, "reused": False}


def night_environment(run_dir: Path) -> dict[str, str]:
    """The environment of a night in ``run_dir``: its own warehouse, Dagster home, serving."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "RAPPORT_", "DAGSTER_"))}
    bin_dir = str(Path(sys.executable).parent)
    env.update({
        "RAPPORT_WAREHOUSE": str(run_dir / "warehouse" / "rapport.duckdb"),
        "RAPPORT_SERVING_DIR": str(run_dir / "serving"),
        "DAGSTER_HOME": str(run_dir / "dagster_home"),
        "DO_NOT_TRACK": "1", "DAGSTER_DISABLE_TELEMETRY": "1",
        "PATH": bin_dir + os.pathsep + env.get("PATH", ""),  # dagster-dbt runs `dbt`
    })
    return env


def run_night(run_dir: Path, label: str) -> dict:
    """Run ``rapport run --demo`` once in ``run_dir``; its figures."""
    env = night_environment(run_dir)
    # as `make demo` does: Dagster loads the dbt manifest, which must match the models dbt
    # builds (a model edited since the last parse would fail the build)
    subprocess.run(["make", "-s", "prepare"], cwd=REPO, check=True)
    rapport = Path(sys.executable).parent / "rapport"
    log = run_dir / f"{label.replace(' ', '-')}.out"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.time()
    with log.open("w") as out:
        proc = subprocess.Popen([str(rapport), "run", "--demo"], cwd=REPO, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
        sampler = Sampler(proc.pid).start()
        code = proc.wait()
    ended = time.time()
    sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"the {label} night failed (exit {code}); its output: {log}\n"
                         + log.read_text()[-3000:])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    steps, models = run_events(Path(env["DAGSTER_HOME"]))
    for step in steps:
        step["cpu_s"], rss = sampler.between(step["start"], step["end"])
        step["peak_rss_mib"] = round(rss / MIB)
    in_steps = sum(s["wall_s"] for s in steps)
    phases: dict[str, dict] = {}
    for step in steps:
        phase = phases.setdefault(phase_of(step["step"]), {
            "phase": phase_of(step["step"]), "wall_s": 0.0, "cpu_s": 0.0, "peak_rss_mib": 0})
        phase["wall_s"] += step["wall_s"]
        phase["cpu_s"] += step["cpu_s"]
        phase["peak_rss_mib"] = max(phase["peak_rss_mib"], step["peak_rss_mib"])
    wall = ended - started
    rest_cpu = max(cpu - sum(s["cpu_s"] for s in steps), 0.0)
    phases["start-up and between steps"] = {
        "phase": "start-up and between steps", "wall_s": max(wall - in_steps, 0.0),
        "cpu_s": rest_cpu, "peak_rss_mib": None}
    peak = max((s.rss for s in sampler.samples), default=0)
    return {"label": label, "wall_s": wall, "cpu_s": cpu, "peak_rss_mib": round(peak / MIB),
            "phases": list(phases.values()), "steps": steps, "dbt_models": models,
            "dbt_run_results": dbt_totals(models), "output": str(log)}


def phase_of(step: str) -> str:
    for prefix, name in PHASES:
        if step.startswith(prefix):
            return name.format(step[len(prefix):]) if "{}" in name else name
    return step


def run_events(dagster_home: Path) -> tuple[list[dict], list[dict]]:
    """Steps (start, end, wall) and dbt models (execution seconds) of the newest run."""
    from dagster import DagsterEventType, DagsterInstance

    instance = DagsterInstance.from_config(str(dagster_home))
    try:
        run = instance.get_runs(limit=1)[0]
        steps: dict[str, dict] = {}
        models: list[dict] = []
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or not entry.step_key:
                continue
            kind = event.event_type
            if kind == DagsterEventType.STEP_START:
                steps[entry.step_key] = {"step": entry.step_key, "start": entry.timestamp}
            elif kind in (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE):
                step = steps.setdefault(entry.step_key, {"step": entry.step_key,
                                                         "start": entry.timestamp})
                step["end"] = entry.timestamp
                step["wall_s"] = step["end"] - step["start"]
            elif kind == DagsterEventType.ASSET_MATERIALIZATION:
                metadata = event.event_specific_data.materialization.metadata
                duration = metadata.get("Execution Duration")
                unique_id = metadata.get("unique_id")
                if duration is not None and unique_id is not None:
                    kind, *_, name = str(unique_id.value).split(".")
                    models.append({"model": name, "kind": kind,
                                   "seconds": float(duration.value)})
    finally:
        instance.dispose()
    done = [s for s in steps.values() if "end" in s]
    return sorted(done, key=lambda s: s["start"]), sorted(models, key=lambda m: -m["seconds"])


def dbt_totals(nodes: list[dict]) -> dict:
    """How many models (and seeds) dbt built and the seconds it recorded for them."""
    models = [n for n in nodes if n["kind"] == "model"]
    seeds = [n for n in nodes if n["kind"] == "seed"]
    return {"models": len(models), "model_seconds": sum(m["seconds"] for m in models),
            "seeds": len(seeds), "seed_seconds": sum(m["seconds"] for m in seeds)}


def copy_raw(warehouse: Path, target: Path) -> list[str]:
    """Copy the raw schemas the night loaded (not dlt's bookkeeping, not its staging
    datasets) into a DuckDB file of their own; the tables copied."""
    target.unlink(missing_ok=True)
    con = duckdb.connect(str(target))
    try:
        con.execute(f"attach '{warehouse}' as night (read_only)")
        tables = con.execute(
            "select schema_name, table_name from duckdb_tables() "
            "where database_name = 'night' and schema_name like 'raw\\_%' escape '\\' "
            "and schema_name not like '%\\_staging' escape '\\' "
            "and table_name not like '\\_dlt%' escape '\\' order by 1, 2").fetchall()
        for schema, table in tables:
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as '
                        f'select * from night."{schema}"."{table}"')
        con.execute("detach night")
        con.execute("create schema floor")
        con.execute("create table floor.owned (platform varchar, account_id varchar, "
                    "team varchar)")
        con.executemany("insert into floor.owned values (?, ?, ?)",
                        [(a.platform, a.account_id, a.team) for a in B.OWNED_ACCOUNTS])
    finally:
        con.close()
    return [f"{s}.{t}" for s, t in tables]


def run_floor(raw_copy: Path) -> dict:
    """The floor: each SQL step, then serial vaderSentiment over the messages' texts."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    me = psutil.Process()
    sampler = Sampler(os.getpid()).start()
    con = duckdb.connect(str(raw_copy))
    steps = []
    try:
        for path in sorted(FLOOR_DIR.glob("*.sql")):
            wall, cpu = time.perf_counter(), _cpu(me)
            con.execute(path.read_text())
            steps.append({"step": path.stem, "wall_s": time.perf_counter() - wall,
                          "cpu_s": _cpu(me) - cpu})
        rows = {t: con.execute(f"select count(*) from floor.{t}").fetchall()[0][0]
                for t in ("messages", "conversations", "responses", "response_daily",
                          "mrm_daily")}
        texts = [t for (t,) in con.execute(
            "select text from floor.messages where text is not null").fetchall()]
    finally:
        con.close()
    analyser = SentimentIntensityAnalyzer()
    wall, cpu = time.perf_counter(), _cpu(me)
    for text in texts:
        analyser.polarity_scores(text)
    vader = {"step": "vaderSentiment (serial)", "texts": len(texts),
             "wall_s": time.perf_counter() - wall, "cpu_s": _cpu(me) - cpu}
    sampler.stop()
    sql_wall = sum(s["wall_s"] for s in steps)
    sql_cpu = sum(s["cpu_s"] for s in steps)
    peak = max((s.rss for s in sampler.samples), default=0)
    return {"steps": steps, "vader": vader, "rows": rows, "sql_wall_s": sql_wall,
            "sql_cpu_s": sql_cpu, "wall_s": sql_wall + vader["wall_s"],
            "cpu_s": sql_cpu + vader["cpu_s"], "peak_rss_mib": round(peak / MIB)}


def _cpu(proc: psutil.Process) -> float:
    t = proc.cpu_times()
    return t.user + t.system


def phase(night: dict, name: str) -> dict:
    return next((p for p in night["phases"] if p["phase"] == name),
                {"wall_s": 0.0, "cpu_s": 0.0})


def report(result: dict) -> str:
    """The compact table printed at the end."""
    m, d, full = result["machine"], result["data"], result["nights"][0]
    lines = [f"machine: {m['cores']} cores, {m['ram_gib']} GiB RAM, Python {m['python']}, "
             f"DuckDB {m['duckdb']}, dbt-core {m['dbt_core']}, Dagster {m['dagster']}; "
             f"load average at start {_load(m['load_average_at_start'])}, at end "
             f"{_load(m['load_average_at_end'])}; commit {m['commit']}"
             + (" with uncommitted changes" if m["uncommitted_dbt_or_code_changes"] else ""),
             f"data: {d['interactions']:,} interactions, {d['people']:,} people, "
             f"{d['conversations']:,} conversations (seed {result['settings']['seed']}, "
             f"{result['settings']['days']} days, {result['settings']['nights']} held back"
             f"{', reused' if d['reused'] else ''})",
             "",
             f"full night: wall {full['wall_s']:.1f} s, CPU {full['cpu_s']:.1f} s, "
             f"peak RSS {full['peak_rss_mib']:,} MiB (process tree)",
             f"  {'phase':<34} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}"]
    for p in full["phases"]:
        rss = f"{p['peak_rss_mib']:,}" if p["peak_rss_mib"] is not None else "-"
        lines.append(f"  {p['phase']:<34} {p['wall_s']:>8.1f} {p['cpu_s']:>8.1f} {rss:>13}")
    totals = full["dbt_run_results"]
    rest = phase(full, "dbt build")["wall_s"] - totals["model_seconds"] - totals["seed_seconds"]
    lines.append(f"  dbt models ({totals['models']}, execution time as dbt records it, "
                 f"2 threads): sum {totals['model_seconds']:.1f} s; {totals['seeds']} seeds "
                 f"{totals['seed_seconds']:.1f} s; the rest of the build's wall ({rest:.1f} s) "
                 f"is tests, parsing and dbt's own overhead")
    for model in (n for n in full["dbt_models"] if n["kind"] == "model"):
        lines.append(f"    {model['model']:<44} {model['seconds']:>8.2f}")
    f = result["floor"]
    lines += ["", f"floor (plain DuckDB over a copy of the night's raw tables, "
                  f"{f['rows']['messages']:,} messages, {f['rows']['conversations']:,} "
                  f"conversations): wall {f['wall_s']:.2f} s, CPU {f['cpu_s']:.2f} s, "
                  f"peak RSS {f['peak_rss_mib']:,} MiB"]
    for s in [*f["steps"], f["vader"]]:
        lines.append(f"  {s['step']:<34} {s['wall_s']:>8.2f} {s['cpu_s']:>8.2f}")
    r = result["ratios"]
    lines += ["", f"ratios (wall): dbt build / floor {r['dbt_build_over_floor']:.1f}x, "
                  f"whole night / floor {r['night_over_floor']:.1f}x; (CPU): dbt build / floor "
                  f"{r['dbt_build_over_floor_cpu']:.1f}x, whole night / floor "
                  f"{r['night_over_floor_cpu']:.1f}x"]
    if len(result["nights"]) > 1:
        lines += ["", "one-day nights against the full night, CPU seconds per phase:",
                  f"  {'phase':<34} {'full':>8}"
                  + "".join(f" {n['label']:>8}" for n in result["nights"][1:])]
        for p in full["phases"]:
            lines.append(f"  {p['phase']:<34} {p['cpu_s']:>8.1f}" + "".join(
                f" {phase(n, p['phase'])['cpu_s']:>8.1f}" for n in result["nights"][1:]))
    for night in result["nights"][1:]:
        rel = night["relative_to_full"]
        lines.append(
            f"{night['label']} (one new day from {night['released_from']}): wall "
            f"{night['wall_s']:.1f} s = {rel['wall']:.0%} of the full night, CPU "
            f"{night['cpu_s']:.1f} s = {rel['cpu']:.0%}; dbt build "
            f"{phase(night, 'dbt build')['wall_s']:.1f} s = {rel['dbt_build_wall']:.0%}, "
            f"ingestion {rel['ingestion_wall_s']:.1f} s; peak RSS {night['peak_rss_mib']:,} MiB")
    return "\n".join(lines)


def compare(small: dict, large: dict) -> str:
    """How the full night's models and phases grew from one run to a larger one: linear in
    the data means a time ratio near the data ratio (issue 13: 3M / 1M <= 3.5 per model)."""
    a, b = small["nights"][0], large["nights"][0]
    n = large["data"]["interactions"] / small["data"]["interactions"]
    lines = [f"{large['data']['interactions']:,} / {small['data']['interactions']:,} "
             f"interactions = {n:.2f}x the data",
             f"  {'full night':<44} {a['wall_s']:>9.1f} {b['wall_s']:>9.1f} "
             f"{b['wall_s'] / a['wall_s']:>7.2f}x wall, {b['cpu_s'] / a['cpu_s']:.2f}x CPU",
             f"  {'phase (CPU s)':<44} {'small':>9} {'large':>9} {'ratio':>8}"]
    for p in a["phases"]:
        other = phase(b, p["phase"])["cpu_s"]
        ratio = f"{other / p['cpu_s']:>7.2f}x" if p["cpu_s"] else "      -"
        lines.append(f"  {p['phase']:<44} {p['cpu_s']:>9.1f} {other:>9.1f} {ratio}")
    lines.append(f"  {'dbt model (execution s)':<44} {'small':>9} {'large':>9} {'ratio':>8}")
    times = {m["model"]: m["seconds"] for m in a["dbt_models"] if m["kind"] == "model"}
    rows = [(m["model"], times[m["model"]], m["seconds"]) for m in b["dbt_models"]
            if m["kind"] == "model" and m["model"] in times]
    for model, t_small, t_large in sorted(rows, key=lambda r: -r[2] / max(r[1], 1e-9)):
        lines.append(f"  {model:<44} {t_small:>9.2f} {t_large:>9.2f} "
                     f"{t_large / max(t_small, 1e-9):>7.2f}x")
    return "\n".join(lines)


def _load(averages: tuple[float, float, float]) -> str:
    return ", ".join(f"{x:.2f}" for x in averages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--interactions", type=int)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=56)
    parser.add_argument("--nights", type=int, default=0,
                        help="after the full night, play this many nights of one new day each")
    parser.add_argument("--out", default="/tmp/rapport-scale",
                        help="scratch folder for data and runs (default /tmp/rapport-scale)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse generated data of the same N, seed, days and nights")
    parser.add_argument("--json", help="also write every figure to this JSON file")
    parser.add_argument("--print-json", metavar="PATH",
                        help="run nothing: print the table of an earlier run's JSON")
    parser.add_argument("--compare", nargs=2, metavar=("SMALL", "LARGE"),
                        help="run nothing: per-model and per-phase time ratios LARGE / SMALL "
                             "of two earlier runs' JSON (linearity)")
    args = parser.parse_args(argv)
    if args.compare:
        small, large = (json.loads(Path(p).read_text()) for p in args.compare)
        print(compare(small, large))
        return 0
    if args.print_json:
        print(report(json.loads(Path(args.print_json).read_text())))
        return 0
    if args.interactions is None:
        parser.error("--interactions is required (or --print-json PATH)")
    out = Path(args.out).resolve()
    if out == REPO or REPO / "warehouse" in (out, *out.parents):
        parser.error("--out must be a scratch folder, not the project's warehouse")
    args.out = str(out)
    result: dict = {"settings": {"interactions": args.interactions, "seed": args.seed,
                                 "days": args.days, "nights": args.nights},
                    "machine": machine()}
    data, result["data"] = data_set(args)
    print(f"data: {data} ({'reused' if result['data']['reused'] else 'generated in '}"
          f"{'' if result['data']['reused'] else result['data']['generate_seconds']}"
          f"{'' if result['data']['reused'] else ' s'})", flush=True)
    run_dir = out / f"run-n{args.interactions}-s{args.seed}-d{args.days}-h{args.nights}"
    shutil.rmtree(run_dir, ignore_errors=True)
    demo = run_dir / "warehouse" / "demo"
    shutil.copytree(data, demo)  # nights release days in place: the data set stays as made
    (run_dir / "dagster_home").mkdir(parents=True)
    shutil.copy(REPO / "dagster_home" / "dagster.yaml", run_dir / "dagster_home")
    full = run_night(run_dir, "full")
    print(f"full night: {full['wall_s']:.1f} s", flush=True)
    raw_copy = run_dir / "raw_copy.duckdb"
    copy_raw(run_dir / "warehouse" / "rapport.duckdb", raw_copy)
    floor = run_floor(raw_copy)
    nights = [full]
    for number in range(1, args.nights + 1):
        started = time.perf_counter()
        released_from = held_back_cut_of(demo)
        release_day(demo)
        released = time.perf_counter() - started
        night = run_night(run_dir, f"night {number}")
        night["released_from"] = released_from
        night["release_seconds"] = round(released, 1)
        ingestion = sum(p["wall_s"] for p in night["phases"]
                        if p["phase"].startswith("ingestion "))
        night["relative_to_full"] = {
            "wall": night["wall_s"] / full["wall_s"], "cpu": night["cpu_s"] / full["cpu_s"],
            "dbt_build_wall": phase(night, "dbt build")["wall_s"]
            / phase(full, "dbt build")["wall_s"],
            "ingestion_wall_s": ingestion}
        print(f"{night['label']}: {night['wall_s']:.1f} s", flush=True)
        nights.append(night)
    dbt_build = phase(full, "dbt build")
    result.update(nights=nights, floor=floor, ratios={
        "dbt_build_over_floor": dbt_build["wall_s"] / floor["wall_s"],
        "night_over_floor": full["wall_s"] / floor["wall_s"],
        "dbt_build_over_floor_cpu": dbt_build["cpu_s"] / floor["cpu_s"],
        "night_over_floor_cpu": full["cpu_s"] / floor["cpu_s"]})
    result["machine"]["load_average_at_end"] = os.getloadavg()
    # written before the table is printed, so a long run's figures survive a printing error
    (run_dir / "figures.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(report(result))
    return 0


def held_back_cut_of(demo: Path) -> str:
    """The first moment of the day the next release makes visible."""
    from datetime import datetime

    from ingestion.demo.generator import hold_back_cut

    settings = json.loads((demo / "hold_back.json").read_text())
    end = datetime.fromisoformat(settings["end"].replace("Z", "+00:00"))
    return f"{hold_back_cut(end, settings['held_back_days']):%Y-%m-%d}"


if __name__ == "__main__":
    sys.exit(main())
