"""Runs that died: a killed night never blocks the next.

A run whose process was killed (SIGKILL, out of memory, a reboot) stays STARTED in Dagster's
run storage and keeps its slot of pool ``duckdb_writer``: the next night would wait "blocked
by limit for pool duckdb_writer" forever. :func:`reap_dead_runs` finds such runs by the PID
of the process that ran them and fails them, frees their pool slots, and records the
interrupted attempt in the serving status. It runs at the start of every `rapport run` /
`rapport backfill`, on every evaluation of the nightly schedule (before it launches a run),
and every minute in sensor ``dead_runs`` wherever the Dagster daemon runs.

The PID comes from the tag `rapport` sets on its runs, or else from the engine event
"Started process for run (pid: N)" that Dagster's run worker reports when the daemon or the UI
launched the run (the default run launcher starts it on the machine of the code server, the
one evaluating the schedule, which tags the run with its host).
"""

from __future__ import annotations

import os
import socket
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster import DagsterInstance, DagsterRun

LAUNCHED_BY = "rapport/launched_by"
PID_TAG = "rapport/pid"
HOST_TAG = "rapport/host"
NIGHT_JOBS = ("nightly", "backfill")
# A run launched but never started by a worker (its launch itself was killed) holds nothing
# once this long has passed (Dagster's own run monitoring uses the same idea, see
# dagster_home/dagster.yaml).
START_TIMEOUT_SECONDS = 300


def run_pid(instance: DagsterInstance, run: DagsterRun) -> tuple[int | None, str | None]:
    """The PID of the process running ``run`` and its host (host None: this machine's default
    run launcher, whose workers run here; PID None: not known)."""
    from dagster import DagsterEventType

    if run.tags.get(PID_TAG):
        return int(run.tags[PID_TAG]), run.tags.get(HOST_TAG)
    from dagster._core.launcher import DefaultRunLauncher

    if not run.tags.get(HOST_TAG) and not isinstance(instance.run_launcher, DefaultRunLauncher):
        return None, None  # workers of other launchers (containers, other machines)
    pid = None
    for entry in instance.all_logs(run.run_id, of_type=DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        value = getattr(data, "metadata", {}).get("pid") if data else None
        if value is not None and str(getattr(value, "value", value)).isdigit():
            pid = int(getattr(value, "value", value))  # the newest worker's, if resumed
    return pid, run.tags.get(HOST_TAG)


def why_dead(instance: DagsterInstance, run: DagsterRun) -> str | None:
    """Why ``run`` (in progress by its status) can hold nothing any more, or None if it may
    still be running (alive, on another machine, or not known)."""
    pid, host = run_pid(instance, run)
    if host is not None and host != socket.gethostname():
        return None  # its PID means nothing here
    if pid is not None:
        return None if _alive(pid) else (f"its process (PID {pid}) ended without finishing "
                                         "(killed?)")
    record = instance.get_run_record_by_id(run.run_id)
    since = record.create_timestamp.timestamp() if record else time.time()
    if run.tags.get(HOST_TAG) and time.time() - since > START_TIMEOUT_SECONDS:
        return f"no process ever ran it in {START_TIMEOUT_SECONDS} s (its launch was killed?)"
    return None


def reap_dead_runs(instance: DagsterInstance, by: str) -> list[str]:
    """Fail every in-progress run whose process is gone, free the pool slots of those and of
    every finished run, and record a night's interruption for BI; returns the run ids failed.

    ``by`` says who noticed (it goes into the run's failure message)."""
    from dagster import DagsterRunStatus, RunsFilter

    from ingestion.settings import serving_dir
    from orchestration.serving import record_failure

    storage = instance.event_log_storage
    reaped = []
    for run in instance.get_runs(RunsFilter(statuses=[
            DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING])):
        reason = why_dead(instance, run)
        if reason is None:
            continue
        message = (f"{run.job_name} run {run.run_id} was interrupted: {reason}; "
                   f"marked failed by {by}")
        instance.report_run_failed(run, message)
        if storage.supports_global_concurrency_limits:
            storage.free_concurrency_slots_for_run(run.run_id)
        if run.job_name in NIGHT_JOBS:
            record_failure(serving_dir(), run.run_id, message, outcome="interrupted")
        reaped.append(run.run_id)
    free_finished_slots(instance)
    return reaped


def free_finished_slots(instance: DagsterInstance) -> None:
    """Give back the pool slots of runs that have finished (or no longer exist)."""
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    for run_id in storage.get_concurrency_run_ids():
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            storage.free_concurrency_slots_for_run(run_id)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its parent) runs nothing any more
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True
