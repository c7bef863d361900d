"""The `rapport` command as a new user runs it: a subprocess in a clean shell.

Each test starts ``rapport`` with none of this machine's SOURCES__*, RAPPORT_*, DAGSTER_* or
DLT_* variables, its own warehouse, serving folder and Dagster instance (a copy of the
project's dagster.yaml), and a temporary working directory, so no ``.dlt/`` folder is read
(dlt reads ``./.dlt`` of the working directory and ``~/.dlt``). Configured sources point at a
closed loopback port with one attempt per request, so a night that should have been refused
fails fast instead of hanging.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

RAPPORT = Path(sys.executable).parent / "rapport"
SOURCES = ("x", "meta", "mastodon", "inbox", "crm")
SALT_ENV = "RAPPORT_CONTACT_KEY_SALT"
SALT = "3b9d0c6e41a7f28d5e0c9b4a7f1e3d62"  # 32 characters, not the demo's
FAKE_TOKEN = "FAKE-TOKEN-9c41e07b2d"  # must never be printed
SUBPROCESS_TIMEOUT = 120
HEALTHY_STATUS = {"published_at": "2026-10-21T02:14:00Z", "published_run_id": "healthy-night",
                  "data_as_of": "2026-10-21", "last_attempt_status": "succeeded"}


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mastodon_settings() -> dict[str, str]:
    """A valid Mastodon-only configuration pointing at a closed loopback port."""
    return {"SOURCES__MASTODON__BASE_URL": f"http://127.0.0.1:{closed_port()}",
            "SOURCES__MASTODON__ACCOUNT_IDS": '["109348273649"]',
            "SOURCES__MASTODON__ACCESS_TOKENS": f'{{"109348273649": "{FAKE_TOKEN}"}}',
            "SOURCES__MASTODON__MAX_ATTEMPTS": "1"}


@dataclass
class User:
    """A new user's shell: an environment and the folders it points at."""

    home: Path
    env: dict[str, str]

    @property
    def dagster_home(self) -> Path:
        return Path(self.env["DAGSTER_HOME"])

    @property
    def warehouse(self) -> Path:
        return Path(self.env["RAPPORT_WAREHOUSE"])

    @property
    def status_file(self) -> Path:
        return Path(self.env["RAPPORT_SERVING_DIR"]) / "status.json"

    def set(self, **settings: str | None) -> User:
        for key, value in settings.items():
            if value is None:
                self.env.pop(key, None)
            else:
                self.env[key] = value
        return self

    def rapport(self, *args: str) -> Result:
        started = time.perf_counter()
        done = subprocess.run([str(RAPPORT), *args], cwd=self.home / "cwd", env=self.env,
                              capture_output=True, text=True, timeout=SUBPROCESS_TIMEOUT)
        return Result(done.returncode, done.stdout, done.stderr,
                      time.perf_counter() - started)

    def runs(self) -> list:
        """The runs recorded in this user's Dagster instance."""
        from dagster import DagsterInstance

        if not (self.dagster_home / "history").exists():
            return []  # no run storage was ever created
        with DagsterInstance.from_config(str(self.dagster_home)) as instance:
            return list(instance.get_runs())


@dataclass
class Result:
    rc: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (f"rc={self.rc} in {self.seconds:.2f}s\n--- stdout\n{self.stdout}"
                f"\n--- stderr\n{self.stderr}")


@pytest.fixture
def user(tmp_path: Path) -> User:
    dagster_home = tmp_path / "dagster_home"
    dagster_home.mkdir()
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    (tmp_path / "cwd").mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "RAPPORT_", "DAGSTER_", "DLT_", "DESTINATION__"))}
    env.update({"RAPPORT_WAREHOUSE": str(tmp_path / "warehouse" / "rapport.duckdb"),
                "RAPPORT_SERVING_DIR": str(tmp_path / "serving"),
                "DAGSTER_HOME": str(dagster_home),
                "DAGSTER_DISABLE_TELEMETRY": "1"})
    return User(tmp_path, env)


def assert_nothing_run(user: User, result: Result, status_before: bytes | None = None) -> None:
    assert "Traceback" not in result.output, result
    assert user.runs() == [], result
    if status_before is None:
        assert not user.status_file.exists(), result
    else:
        assert user.status_file.read_bytes() == status_before, result
    assert FAKE_TOKEN not in result.output, result


def write_healthy_status(user: User) -> bytes:
    user.status_file.parent.mkdir(parents=True, exist_ok=True)
    user.status_file.write_text(json.dumps(HEALTHY_STATUS, indent=2), encoding="utf-8")
    return user.status_file.read_bytes()


# --- rapport check ---------------------------------------------------------------------------


def test_check_with_nothing_configured_names_every_source_and_the_salt(user: User) -> None:
    result = user.rapport("check")
    assert result.rc == 2, result
    for source in SOURCES:
        line = next((ln for ln in result.stdout.splitlines()
                     if ln.strip().startswith(f"{source}: ")), None)
        assert line is not None, result
        assert "not configured" in line, line
        assert f"SOURCES__{source.upper()}__" in line, line
    assert "SOURCES__X__ACCOUNT_IDS" in result.stdout
    assert "SOURCES__MASTODON__BASE_URL" in result.stdout
    assert "SOURCES__INBOX__BUCKET_URL" in result.stdout
    assert SALT_ENV in result.stdout, result
    assert "nothing was run" in result.output, result
    assert "configuration OK" not in result.output
    assert_nothing_run(user, result)


def test_check_with_a_mastodon_only_team_is_ok_and_the_schedule_is_on(user: User) -> None:
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    result = user.rapport("check")
    assert result.rc == 0, result
    assert "configuration OK" in result.stdout, result
    assert "mastodon: configured" in result.stdout, result
    for source in ("x", "meta", "inbox", "crm"):
        assert f"{source}: not configured" in result.stdout, result
    schedule = [ln for ln in result.stdout.splitlines() if ln.startswith("schedule:")]
    assert len(schedule) == 1, result
    assert "nightly_0200_berlin is on" in schedule[0], schedule
    assert "ERROR" not in result.output, result
    assert_nothing_run(user, result)
    # "on" is what the definition says when no one turned it off
    from dagster import DefaultScheduleStatus

    from orchestration.schedules import nightly_schedule

    assert nightly_schedule.name == "nightly_0200_berlin"
    assert nightly_schedule.default_status == DefaultScheduleStatus.RUNNING


def test_check_says_when_the_schedule_was_turned_off_and_the_daemon_runs(user: User) -> None:
    from dagster import DagsterInstance
    from dagster._core.remote_origin import (
        InProcessCodeLocationOrigin,
        RemoteInstigatorOrigin,
        RemoteRepositoryOrigin,
    )
    from dagster._core.scheduler.instigation import (
        InstigatorState,
        InstigatorStatus,
        InstigatorType,
        ScheduleInstigatorData,
    )
    from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
    from dagster._daemon.types import DaemonHeartbeat

    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    location = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(module_name="orchestration.definitions"), location_name="rapport")
    origin = RemoteInstigatorOrigin(RemoteRepositoryOrigin(location, "__repository__"),
                                    "nightly_0200_berlin")
    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        instance.add_instigator_state(InstigatorState(
            origin, InstigatorType.SCHEDULE, InstigatorStatus.STOPPED,
            ScheduleInstigatorData("0 2 * * *")))
        instance.add_daemon_heartbeat(DaemonHeartbeat(time.time(), "SCHEDULER", "test", None))
    result = user.rapport("check")
    assert result.rc == 0, result
    schedule = [ln for ln in result.stdout.splitlines() if ln.startswith("schedule:")]
    assert len(schedule) == 1, result
    assert "nightly_0200_berlin is stopped" in schedule[0], schedule
    assert "the daemon is running" in schedule[0], schedule


def test_check_names_each_invalid_setting_with_key_and_env_var_and_no_secret(
        user: User, tmp_path: Path) -> None:
    missing = tmp_path / "inbox-exports-not-there"
    user.set(
        RAPPORT_CONTACT_KEY_SALT=SALT,
        # X half configured: accounts but no bearer token; the user tokens a bare token
        SOURCES__X__ACCOUNT_IDS='["1448302012"]',
        SOURCES__X__USER_TOKENS=FAKE_TOKEN,
        # Meta: a page name instead of its id; Instagram ids not a JSON list
        SOURCES__META__PAGE_IDS='["backstube-krume"]',
        SOURCES__META__INSTAGRAM_ACCOUNT_IDS="17841, 17842",
        SOURCES__META__ACCESS_TOKENS=f'{{"backstube-krume": "{FAKE_TOKEN}"}}',
        # Mastodon: a query on the base URL, a '#' hashtag, a token missing for an account
        SOURCES__MASTODON__BASE_URL=f"https://social.example/?access_token={FAKE_TOKEN}",
        SOURCES__MASTODON__ACCOUNT_IDS='["109", "110"]',
        SOURCES__MASTODON__ACCESS_TOKENS=f'{{"109": "{FAKE_TOKEN}"}}',
        SOURCES__MASTODON__HASHTAGS='["#Veloflott"]',
        # inbox: a folder that does not exist
        SOURCES__INBOX__BUCKET_URL=f"file://{missing}",
    )
    result = user.rapport("check")
    assert result.rc == 2, result
    errors = [ln for ln in result.stdout.splitlines() if "ERROR" in ln]
    expected = [
        ("x: missing bearer_token", "[sources.x] bearer_token", "SOURCES__X__BEARER_TOKEN"),
        ("x: user_tokens is not a JSON object", "[sources.x] user_tokens",
         "SOURCES__X__USER_TOKENS"),
        ("meta: page_ids holds 1 value(s) that are not numeric ids",
         "[sources.meta] page_ids", "SOURCES__META__PAGE_IDS"),
        ("meta: instagram_account_ids is not a JSON list",
         "[sources.meta] instagram_account_ids", "SOURCES__META__INSTAGRAM_ACCOUNT_IDS"),
        ("mastodon: base_url must not carry a query", "[sources.mastodon] base_url",
         "SOURCES__MASTODON__BASE_URL"),
        ("mastodon: access_tokens has no token for account 110",
         "[sources.mastodon] access_tokens.110", "SOURCES__MASTODON__ACCESS_TOKENS__110"),
        ("mastodon: hashtags must be letters", "[sources.mastodon] hashtags",
         "SOURCES__MASTODON__HASHTAGS"),
        (f"inbox: bucket_url folder {missing} does not exist", "[sources.inbox] bucket_url",
         "SOURCES__INBOX__BUCKET_URL"),
    ]
    for text, key, variable in expected:
        lines = [ln for ln in errors if text in ln]
        assert lines, f"no ERROR line says {text!r}\n{result}"
        assert key in lines[0] and variable in lines[0], lines[0]
    for source in ("x", "meta", "mastodon", "inbox"):
        assert f"{source}: invalid" in result.stdout, result
    assert "crm: not configured" in result.stdout, result
    assert "nothing was run" in result.output, result
    assert FAKE_TOKEN not in result.output, result
    assert_nothing_run(user, result)


# --- rapport backfill with a mistyped window ------------------------------------------------


@pytest.mark.parametrize(("start", "end", "says"), [
    ("2026-13-45", "2026-10-21", "2026-13-45"),
    ("2026-10-21", "2026-10-19", "before start"),
    ("20261019", "2026-10-21", "20261019"),
    ("2999-01-01", "2999-01-02", "in the future"),
], ids=["no-such-month", "end-before-start", "no-dashes", "start-in-the-future"])
def test_backfill_with_a_bad_window_is_refused_at_once_without_touching_status(
        user: User, start: str, end: str, says: str) -> None:
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    status_before = write_healthy_status(user)
    result = user.rapport("backfill", "--start", start, "--end", end)
    assert result.rc == 2, result
    errors = [ln for ln in result.stderr.splitlines() if "error:" in ln]
    assert len(errors) == 1, result
    assert says in errors[0], result
    assert result.stdout == "", result
    assert result.seconds < 1.0, f"refusing a bad window took {result.seconds:.2f}s\n{result}"
    assert_nothing_run(user, result, status_before)


# --- rapport run refused before anything runs -----------------------------------------------


@pytest.mark.parametrize(("salt", "says"), [
    (None, "is not set"), ("rapport-demo", "is the demo's public salt"),
    ("0123456789abcde", "is shorter than 16"),
], ids=["salt-missing", "demo-salt", "short-salt"])
def test_run_without_a_real_salt_is_refused(user: User, salt: str | None, says: str) -> None:
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=salt)
    result = user.rapport("run")
    assert result.rc == 2, result
    assert f"{SALT_ENV} {says}" in result.stderr, result
    assert "not started" in result.stderr, result
    assert_nothing_run(user, result)


def test_run_with_an_invalid_setting_is_refused_and_not_recorded_as_a_failed_night(
        user: User) -> None:
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT,
             SOURCES__X__ACCOUNT_IDS='["1448302012"]')  # X half configured
    status_before = write_healthy_status(user)
    result = user.rapport("run")
    assert result.rc == 2, result
    assert "not started" in result.stderr, result
    assert "x: missing bearer_token" in result.stderr, result
    assert "SOURCES__X__BEARER_TOKEN" in result.stderr, result
    assert_nothing_run(user, result, status_before)


def _fake_running_night(user: User, pid: int, host: str | None = None) -> str:
    """A run of job nightly in the user's instance, STARTED by process ``pid`` on ``host``
    (default: this machine)."""
    from dagster import DagsterEvent, DagsterEventType, DagsterInstance, DagsterRunStatus
    from dagster._core.storage.dagster_run import DagsterRun

    run_id = str(uuid.uuid4())
    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        instance.add_run(DagsterRun(
            job_name="nightly", run_id=run_id, status=DagsterRunStatus.NOT_STARTED,
            tags={"rapport/launched_by": "rapport-cli", "rapport/pid": str(pid),
                  "rapport/host": host or socket.gethostname()}))
        instance.report_dagster_event(
            DagsterEvent(event_type_value=DagsterEventType.RUN_START.value,
                         job_name="nightly", message="a night started by another shell"),
            run_id)
        assert instance.get_run_by_id(run_id).status == DagsterRunStatus.STARTED
    return run_id


def _run_status(user: User, run_id: str):
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        return instance.get_run_by_id(run_id).status


class HeldOpen:
    """A Python process holding ``duckdb.connect(path)`` open until closed."""

    HOLDER = ("import duckdb, sys; con = duckdb.connect(sys.argv[1]); "
              "print('ready', flush=True); sys.stdin.read()")

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen([sys.executable, "-c", self.HOLDER, str(path)],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        text=True)
        assert self.process.stdout.readline().strip() == "ready"

    def __enter__(self) -> HeldOpen:
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.stdin.close()
        self.process.wait(timeout=30)


def test_a_second_writer_is_told_another_night_is_running(user: User) -> None:
    from dagster import DagsterRunStatus

    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        run_id = _fake_running_night(user, sleeper.pid)
        _claim_writer_slot(user, run_id)
        result = user.rapport("run")
        assert result.rc == 3, result
        assert "another night is running since" in result.stderr, result
        assert run_id in result.stderr, result
        assert "Traceback" not in result.output, result
        assert _run_status(user, run_id) == DagsterRunStatus.STARTED
        assert not user.status_file.exists(), result
    finally:
        sleeper.kill()
        sleeper.wait()
    # The night's process is gone: its run holds nothing any more. So that no real night
    # starts here, the warehouse file is held open: the run must get past the running-night
    # check (marking the dead run failed) and stop at the warehouse.
    with HeldOpen(user.warehouse):
        after = user.rapport("run")
    assert "another night is running" not in after.output, after
    assert after.rc == 3, after
    assert "open in another process" in after.stderr, after
    assert _run_status(user, run_id) == DagsterRunStatus.FAILURE
    # the killed night's writer-pool slot is given back, or every later night would wait
    assert run_id not in _slot_holders(user), after
    assert [r.run_id for r in user.runs()] == [run_id], after
    # BI's status records the interrupted attempt (nothing was ever published here)
    status = json.loads(user.status_file.read_text(encoding="utf-8"))
    assert (status["last_attempt_run_id"], status["last_attempt_status"]) == (
        run_id, "interrupted"), status
    assert status["published_at"] is None, status


def _claim_writer_slot(user: User, run_id: str) -> None:
    """What a night's running step holds: the one slot of pool ``duckdb_writer``."""
    from dagster import DagsterInstance

    from orchestration.assets.ingestion import DUCKDB_POOL

    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        instance.event_log_storage.initialize_concurrency_limit_to_default(DUCKDB_POOL)
        claim = instance.event_log_storage.claim_concurrency_slot(DUCKDB_POOL, run_id,
                                                                  "ingest_x")
        assert claim.is_claimed
    assert run_id in _slot_holders(user)


def _slot_holders(user: User) -> set[str]:
    from dagster import DagsterInstance

    with DagsterInstance.from_config(str(user.dagster_home)) as instance:
        return instance.event_log_storage.get_concurrency_run_ids()


def test_a_night_of_another_machine_is_never_taken_for_dead(user: User) -> None:
    # Its pid means nothing here: the run must be left alone, and refuse the second writer.
    from dagster import DagsterRunStatus

    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    dead = subprocess.Popen(["true"])
    dead.wait()
    run_id = _fake_running_night(user, dead.pid, host="rapport-ui.other-machine.internal")
    result = user.rapport("run")
    assert result.rc == 3, result
    assert "another night is running since" in result.stderr, result
    assert _run_status(user, run_id) == DagsterRunStatus.STARTED


def test_a_warehouse_open_in_another_process_is_named(user: User) -> None:
    user.set(**mastodon_settings(), RAPPORT_CONTACT_KEY_SALT=SALT)
    with HeldOpen(user.warehouse) as holder:
        result = user.rapport("run")
    assert result.rc == 3, result
    assert str(user.warehouse) in result.stderr, result
    assert "open in another process" in result.stderr, result
    assert f"PID {holder.process.pid}" in result.stderr, result
    assert "Traceback" not in result.output, result
    assert_nothing_run(user, result)


# --- what the terminal shows of a run: orchestration.progress.describe -----------------------


def test_describe_gives_one_line_per_step_event_on_real_dagster_events() -> None:
    from dagster import (
        AssetCheckResult,
        AssetCheckSeverity,
        AssetCheckSpec,
        DagsterInstance,
        Failure,
        Output,
        RetryPolicy,
        asset,
        job,
        materialize,
        op,
    )

    from orchestration.progress import describe

    @op
    def ingest_x(context) -> int:
        context.log.info("x: not configured, skipped tonight\nsecond line not shown")
        context.log.debug("x: a debug line")
        return 1

    @op
    def raw_x_quality(context, rows: int) -> int:
        context.log.info("an info line of a step that is not an ingest step")
        context.log.warning("raw_x.mentions has 0 rows")
        return rows

    @op(retry_policy=RetryPolicy(max_retries=1))
    def flaky(_rows: int) -> None:
        raise ValueError("the server said no\nsecond line of the error")

    @op
    def configured_wrong(_rows: int) -> None:
        raise Failure(description="configuration: x: missing bearer_token\nmore detail",
                      allow_retries=False)

    @job
    def night():
        rows = raw_x_quality(ingest_x())
        flaky(rows)
        configured_wrong(rows)

    @asset(check_specs=[AssetCheckSpec("row_count", asset="mart_alerts")])
    def mart_alerts():
        yield Output(1)
        yield AssetCheckResult(check_name="row_count", passed=False,
                               severity=AssetCheckSeverity.WARN)

    def lines(instance: DagsterInstance, run_id: str) -> list[str]:
        records = instance.get_records_for_run(run_id, limit=10_000).records
        return [line for r in records if (line := describe(r.event_log_entry))]

    with DagsterInstance.ephemeral() as instance:
        result = night.execute_in_process(instance=instance, raise_on_error=False)
        assert not result.success
        shown = lines(instance, result.run_id)
        checked = materialize([mart_alerts], instance=instance)
        shown_check = lines(instance, checked.run_id)

    def one(step: str, text: str) -> str:
        found = [ln for ln in shown + shown_check if ln.split()[1:2] == [step] and text in ln]
        assert len(found) == 1, f"{step} {text!r}: {shown + shown_check}"
        return found[0]

    assert one("ingest_x", "started")
    assert one("ingest_x", "done in ")
    assert one("ingest_x", "x: not configured, skipped tonight")
    assert one("raw_x_quality", "raw_x.mentions has 0 rows")
    assert one("flaky", "will be retried")
    assert "second line" not in one("flaky", "FAILED:")
    configuration = one("configured_wrong", "FAILED:")
    assert configuration.endswith("FAILED: configuration: x: missing bearer_token")
    assert one("mart_alerts", "check mart_alerts:row_count failed (WARN)")
    everything = "\n".join(shown + shown_check)
    assert "second line not shown" not in everything
    assert "a debug line" not in everything
    assert "not an ingest step" not in everything  # INFO of other steps stays in the log
    assert all("\n" not in line for line in shown + shown_check)


def test_describe_a_step_failed_after_its_retries_says_why() -> None:
    # A source step that fails on every try (a refused connection, a 401) ends with
    # "FAILED: Exceeded max_retries of 2" and two "will be retried": the cause is only in
    # the log file. The terminal line should carry the error the step raised.
    from dagster import DagsterInstance, RetryPolicy, job, op

    from orchestration.progress import describe

    @op(retry_policy=RetryPolicy(max_retries=1))
    def ingest_mastodon() -> None:
        raise ConnectionError("127.0.0.1:9: connection refused\nsecond line")

    @job
    def night():
        ingest_mastodon()

    with DagsterInstance.ephemeral() as instance:
        result = night.execute_in_process(instance=instance, raise_on_error=False)
        records = instance.get_records_for_run(result.run_id, limit=10_000).records
        shown = [line for r in records if (line := describe(r.event_log_entry))]
    failed = [ln for ln in shown if "FAILED" in ln]
    assert len(failed) == 1, shown
    assert "connection refused" in failed[0], failed[0]


@pytest.mark.parametrize(("start", "end"), [("2026-13-45", "2026-10-21"),
                                            ("2026-10-21", "2026-10-19")],
                         ids=["no-such-month", "end-before-start"])
def test_backfill_with_a_bad_window_prints_one_line(user: User, start: str, end: str) -> None:
    # The issue: "invalid dates and windows are refused at once with one line". argparse adds
    # its usage block; for end-before-start it is the top-level parser's ("rapport [-h]
    # {demo,...}") and the line says "rapport: error:", not "rapport backfill: error:".
    result = user.rapport("backfill", "--start", start, "--end", end)
    assert result.rc == 2, result
    assert len(result.stderr.splitlines()) == 1, result
    assert result.stderr.startswith("rapport backfill: "), result
