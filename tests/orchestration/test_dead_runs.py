"""A killed night never blocks the next: runs whose process is gone are failed, their
``duckdb_writer`` slot freed, and BI's status says the attempt was interrupted.

The runs here are what Dagster's run worker leaves when it is SIGKILLed: a run STARTED, the
worker's engine event "Started process for run (pid: N)" with N a process that is gone, and
the writer slot claimed, with no `rapport` tags (the daemon or the UI launched it).
"""

from __future__ import annotations

import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from dagster import (
    DagsterEvent,
    DagsterEventType,
    DagsterInstance,
    DagsterRun,
    DagsterRunStatus,
    RunRequest,
    build_schedule_context,
    build_sensor_context,
)
from dagster._core.events import EngineEventData

from orchestration.assets.ingestion import DUCKDB_POOL
from orchestration.definitions import defs
from orchestration.serving import publish, read_status
from tests.orchestration.test_cli import SALT, HeldOpen, User, mastodon_settings, user  # noqa: F401
from tests.orchestration.test_serving import make_working


def dead_pid() -> int:
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def worker_run(dagster_home: Path, pid: int, tags: dict[str, str] | None = None,
               claim: bool = True) -> str:
    """A nightly run as the daemon's run worker leaves it when killed in a DuckDB step
    (``claim``: holding the writer slot)."""
    run_id = str(uuid.uuid4())
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.add_run(DagsterRun(job_name="nightly", run_id=run_id, tags=tags or {},
                                          status=DagsterRunStatus.NOT_STARTED))
        instance.report_dagster_event(DagsterEvent(
            event_type_value=DagsterEventType.RUN_START.value, job_name="nightly"), run_id)
        instance.report_engine_event(f"Started process for run (pid: {pid}).", run,
                                     EngineEventData.in_process(pid))
        storage = instance.event_log_storage
        storage.initialize_concurrency_limit_to_default(DUCKDB_POOL)
        if claim:
            assert storage.claim_concurrency_slot(DUCKDB_POOL, run_id, "dbt_build").is_claimed
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
    return run_id


def state(dagster_home: Path, run_id: str) -> tuple[DagsterRunStatus, bool]:
    """The run's status and whether it still holds a writer slot."""
    with DagsterInstance.from_config(str(dagster_home)) as instance:
        holders = instance.event_log_storage.get_concurrency_run_ids()
        return instance.get_run_by_id(run_id).status, run_id in holders


def published_night(serving: Path) -> str:
    working = serving.parent / "work.duckdb"
    make_working(working, 5)
    return publish(working, serving, "good-night").published_at


def test_rapport_run_fails_a_killed_daemon_night_frees_its_slot_and_records_it(
        user: User) -> None:  # noqa: F811
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    serving = Path(user.env["RAPPORT_SERVING_DIR"])
    published_at = published_night(serving)
    pid = dead_pid()
    run_id = worker_run(user.dagster_home, pid)

    # the warehouse is held open so that no real night starts: the run must get past the
    # running-night check and stop at the warehouse
    with HeldOpen(user.warehouse):
        result = user.rapport("run")
    assert result.rc == 3 and "open in another process" in result.stderr, result
    assert "another night is running" not in result.output, result
    assert state(user.dagster_home, run_id) == (DagsterRunStatus.FAILURE, False)
    status = read_status(serving)
    assert status.last_attempt_status == "interrupted", status
    assert status.last_attempt_run_id == run_id
    assert f"PID {pid}" in status.last_failure and "killed" in status.last_failure
    assert (status.published_at, status.published_run_id) == (published_at, "good-night")


def test_the_nightly_schedule_fails_a_killed_night_before_launching_the_next(
        user: User, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    for key, value in {**mastodon_settings(), "RAPPORT_CONTACT_KEY_SALT": SALT,
                       "RAPPORT_SERVING_DIR": user.env["RAPPORT_SERVING_DIR"],
                       "RAPPORT_WAREHOUSE": user.env["RAPPORT_WAREHOUSE"]}.items():
        monkeypatch.setenv(key, value)
    serving = Path(user.env["RAPPORT_SERVING_DIR"])
    published_night(serving)
    run_id = worker_run(user.dagster_home, dead_pid(), {"rapport/host": socket.gethostname()})

    schedule = defs.resolve_schedule_def("nightly_0200_berlin")
    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        requests = schedule.evaluate_tick(build_schedule_context(instance=instance)).run_requests
    assert [type(r) for r in requests] == [RunRequest]
    assert requests[0].tags["rapport/host"] == socket.gethostname()
    assert state(user.dagster_home, run_id) == (DagsterRunStatus.FAILURE, False)
    assert read_status(serving).last_attempt_status == "interrupted"


def test_the_daemon_sensor_fails_only_runs_whose_process_is_gone(
        user: User, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("RAPPORT_SERVING_DIR", user.env["RAPPORT_SERVING_DIR"])
    sensor = defs.resolve_sensor_def("dead_runs")
    worker = subprocess.Popen(["sleep", "60"])
    try:
        alive = worker_run(user.dagster_home, worker.pid)
        elsewhere = worker_run(user.dagster_home, dead_pid(),
                               {"rapport/host": "dagster-worker.other-machine.internal"},
                               claim=False)
        with DagsterInstance.from_config(str(user.dagster_home)) as instance:
            sensor.evaluate_tick(build_sensor_context(instance=instance))
        assert state(user.dagster_home, alive) == (DagsterRunStatus.STARTED, True)
        assert state(user.dagster_home, elsewhere)[0] == DagsterRunStatus.STARTED
    finally:
        worker.kill()
        worker.wait()
    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        sensor.evaluate_tick(build_sensor_context(instance=instance))
    assert state(user.dagster_home, alive) == (DagsterRunStatus.FAILURE, False)
    assert state(user.dagster_home, elsewhere)[0] == DagsterRunStatus.STARTED
    status = read_status(Path(user.env["RAPPORT_SERVING_DIR"]))
    assert (status.last_attempt_run_id, status.last_attempt_status) == (alive, "interrupted")
