"""A night SIGKILLed at any moment leaves nothing running and nothing locked; the next runs.

`rapport run --demo` runs as a subprocess in its own session on a small demo data set. It is
killed with SIGKILL, either alone (the orchestrator; dbt and other children must die with it)
or with its whole process group, while ingesting, while `dbt build` runs and while
publishing. Then no process it started is left, the warehouse opens for writing, and the next
`rapport run --demo` succeeds and publishes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import psutil
import pytest
from dagster import DagsterInstance, DagsterRunStatus

from tests.orchestration.test_cli import RAPPORT, User, user  # noqa: F401

DEMO = ("--interactions", "500", "--days", "28", "--seed", "5")
NIGHT_TIMEOUT = 900


class Night:
    """`rapport run --demo` in its own session, its terminal lines collected as they come."""

    def __init__(self, user: User) -> None:  # noqa: F811
        self.process = subprocess.Popen([str(RAPPORT), "run", "--demo"], cwd=user.home / "cwd",
                                        env=user.env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def descendants(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []

    def wait_for(self, moment: str) -> None:
        """Until ``moment``: a step starting ("started" line naming it), or "dbt" running."""
        deadline = time.monotonic() + NIGHT_TIMEOUT
        while time.monotonic() < deadline:
            assert self.process.poll() is None, "".join(self.lines)
            if moment == "dbt":
                if any("build" in " ".join(p.cmdline()) and "dbt" in " ".join(p.cmdline())
                       for p in self.descendants() if _running(p)):
                    time.sleep(3)  # well into the build, models being written
                    return
            elif any(moment in line and line.rstrip().endswith("started")
                     for line in self.lines):
                return
            time.sleep(0.1)
        raise AssertionError(f"never reached {moment}:\n{''.join(self.lines)}")


def _running(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def generate_demo(user: User) -> None:  # noqa: F811
    done = subprocess.run([str(RAPPORT), "generate", "--out",
                           str(user.warehouse.parent / "demo"), *DEMO], env=user.env,
                          cwd=user.home / "cwd", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr


def status(user: User) -> dict:  # noqa: F811
    return json.loads(user.status_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("moment,whole_group", [
    ("dbt", False),        # the orchestrator alone, while `dbt build` runs
    ("dbt", True),
    ("ingest_", True),     # the first ingest step
    ("published_marts", False),
])
def test_a_night_killed_at_any_moment_leaves_nothing_behind_and_the_next_publishes(
        user: User, moment: str, whole_group: bool) -> None:  # noqa: F811
    generate_demo(user)
    night = Night(user)
    night.wait_for(moment)
    children = night.descendants()
    if whole_group:
        os.killpg(night.process.pid, signal.SIGKILL)
    else:
        night.process.send_signal(signal.SIGKILL)
    night.process.wait(timeout=30)

    gone, alive = psutil.wait_procs(children, timeout=20)
    alive = [p for p in alive if _running(p)]
    assert not alive, [p.cmdline() for p in alive]
    duckdb.connect(str(user.warehouse)).close()  # nobody holds the warehouse

    after = subprocess.run([str(RAPPORT), "run", "--demo"], cwd=user.home / "cwd",
                           env=user.env, capture_output=True, text=True, timeout=NIGHT_TIMEOUT)
    assert after.returncode == 0, after.stdout[-3000:] + after.stderr[-3000:]
    published = status(user)
    assert published["last_attempt_status"] == "published", published
    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        runs = sorted(instance.get_runs(), key=lambda r: r.run_id == published["published_run_id"])
        assert [r.status for r in runs] == [DagsterRunStatus.FAILURE, DagsterRunStatus.SUCCESS]
        assert instance.event_log_storage.get_concurrency_run_ids() == set()


CHILD_STARTER = """
import subprocess, sys
child = subprocess.Popen(sys.argv[1:])  # as dagster-dbt starts dbt: a plain child
print(child.pid, flush=True)
child.wait()
"""


@pytest.mark.parametrize("wrapped", [True, False])
def test_the_dbt_wrapper_makes_its_program_die_with_the_process_that_started_it(
        tmp_path: Path, wrapped: bool) -> None:
    from orchestration.resources import DBT_WRAPPER, REAL_DBT_ENV

    command = [str(DBT_WRAPPER), "300"] if wrapped else ["sleep", "300"]
    starter = subprocess.Popen([sys.executable, "-c", CHILD_STARTER, *command],
                               env={**os.environ, REAL_DBT_ENV: shutil.which("sleep")},
                               stdout=subprocess.PIPE, text=True)
    child = psutil.Process(int(starter.stdout.readline()))
    try:
        time.sleep(0.5)  # the wrapper has exec'd the program
        assert child.name() == "sleep"
        starter.send_signal(signal.SIGKILL)
        starter.wait()
        try:
            child.wait(timeout=10)
            survived = False
        except psutil.TimeoutExpired:
            survived = True
        assert survived is not wrapped  # unwrapped, the program runs on after its parent
    finally:
        if child.is_running():
            child.kill()
