"""The code location loaded the way Dagster's own tools load it, not by importing ``defs``.

``dagster definitions validate`` (found through pyproject.toml, as ``make dev`` and the daemon
find it, and by module), ``dagster-webserver`` read back through its GraphQL API, ``dagster job
execute`` of the nightly job with nothing configured, and ``make dev``'s command line. Every
tool runs in a subprocess with its own DAGSTER_HOME (a copy of the project's dagster.yaml),
warehouse and serving folder, and no source settings from the environment.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

BIN = Path(sys.executable).parent
DAGSTER = BIN / "dagster"
WEBSERVER = BIN / "dagster-webserver"
LOCATION = "rapport"  # pyproject's [tool.dagster] code_location_name
REPOSITORY = "__repository__"  # the repository Dagster makes of a module's Definitions
SCHEDULE = "nightly_0200_berlin"
DEFINITIONS_CLASH = "more than one Definitions object"


def tool_env(root: Path) -> dict[str, str]:
    """The environment of a new user's shell: the venv first on PATH, a fresh DAGSTER_HOME,
    a private warehouse and serving folder, no telemetry, and no Rapport or source settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "RAPPORT_", "DAGSTER_", "DESTINATION__"))}
    home = root / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", home / "dagster.yaml")
    env.update(
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        DAGSTER_HOME=str(home),
        DAGSTER_DISABLE_TELEMETRY="1",
        DO_NOT_TRACK="1",
        RAPPORT_WAREHOUSE=str(root / "warehouse" / "rapport.duckdb"),
        RAPPORT_SERVING_DIR=str(root / "serving"),
        PYTHONUNBUFFERED="1",
    )
    return env


def run_tool(args: list[str], env: dict[str, str], cwd: Path,
             timeout: float) -> tuple[subprocess.CompletedProcess, float]:
    started = time.monotonic()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    return done, time.monotonic() - started


# --- dagster definitions validate -------------------------------------------------------------

@pytest.mark.parametrize("how", [[], ["-m", "orchestration.definitions"]],
                         ids=["via_pyproject", "via_module"])
def test_definitions_validate_loads_the_code_location(how: list[str], tmp_path: Path) -> None:
    done, _ = run_tool([str(DAGSTER), "definitions", "validate", *how], tool_env(tmp_path),
                       cwd=REPO_ROOT, timeout=180)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    assert DEFINITIONS_CLASH not in out
    # from pyproject the location has the project's name; -m names it after the module
    name = LOCATION if not how else "orchestration.definitions"
    assert f"Validation successful for code location {name}" in out, out[-4000:]


# --- dagster-webserver and its GraphQL API ----------------------------------------------------

@dataclass
class Webserver:
    url: str
    log: Path

    def query(self, query: str, variables: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            answer = json.load(response)
        assert not answer.get("errors"), answer["errors"]
        return answer["data"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


LOCATIONS = """
{ workspaceOrError {
    __typename
    ... on PythonError { message }
    ... on Workspace { locationEntries {
        name loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message stack }
          ... on RepositoryLocation { name repositories { name } }
        } } } } }
"""

REPOSITORY_QUERY = """
query Repository($selector: RepositorySelector!) {
  repositoryOrError(repositorySelector: $selector) {
    __typename
    ... on PythonError { message }
    ... on RepositoryNotFoundError { message }
    ... on Repository {
      jobs { name isAssetJob }
      schedules {
        name cronSchedule executionTimezone pipelineName
        scheduleState { status }
      }
      assetNodes {
        assetKey { path }
        dependencyKeys { path }
        jobNames
        assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
      }
    } } }
"""


def _location_entries(server: Webserver) -> list[dict]:
    workspace = server.query(LOCATIONS)["workspaceOrError"]
    assert workspace["__typename"] == "Workspace", workspace
    return workspace["locationEntries"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Webserver]:
    """``dagster-webserver`` started from the repository root as ``make dev`` starts Dagster:
    no -m/-w, so it finds the code location through pyproject.toml."""
    root = tmp_path_factory.mktemp("webserver")
    port = free_port()
    log = root / "webserver.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [str(WEBSERVER), "-h", "127.0.0.1", "-p", str(port)], cwd=REPO_ROOT,
            env=tool_env(root), stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Webserver(f"http://127.0.0.1:{port}", log)
    try:
        deadline = time.monotonic() + 150
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dagster-webserver exited with {proc.returncode}:\n"
                            f"{log.read_text()[-4000:]}")
            try:
                entries = _location_entries(server)
                # the webserver answers before the location has loaded: wait until it is done
                if entries and all(e["loadStatus"] == "LOADED" for e in entries):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"dagster-webserver did not load the location:\n"
                            f"{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield server
    finally:
        # the webserver and the code server it started share the session's process group
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        # a code server that outlived its parent is still in the group: make sure it is gone
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture(scope="module")
def repository(webserver: Webserver) -> dict:
    selector = {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}
    answer = webserver.query(REPOSITORY_QUERY, {"selector": selector})["repositoryOrError"]
    assert answer["__typename"] == "Repository", answer
    return answer


def _key(node: dict) -> str:
    return "/".join(node["assetKey"]["path"])


def _deps(node: dict) -> list[str]:
    return ["/".join(key["path"]) for key in node["dependencyKeys"]]


def test_webserver_loads_the_location_without_error(webserver: Webserver) -> None:
    entries = _location_entries(webserver)
    assert [e["name"] for e in entries] == [LOCATION]
    location = entries[0]["locationOrLoadError"]
    assert location["__typename"] == "RepositoryLocation", location
    assert [r["name"] for r in location["repositories"]] == [REPOSITORY]
    assert DEFINITIONS_CLASH not in webserver.log.read_text()


def test_webserver_shows_the_whole_asset_graph(repository: dict) -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    nodes = {_key(n): n for n in repository["assetNodes"]}
    assert len(nodes) == len(repository["assetNodes"])
    assert set(nodes) == {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert len(nodes) == len(graph.get_all_asset_keys())
    for key in ("marts/fct_conversations", "x/mentions", "serving/published_marts"):
        assert key in nodes
        assert {"nightly", "backfill"} <= set(nodes[key]["jobNames"]), key
    # the lineage runs from the dlt table through the dbt staging model to the marts
    assert _deps(nodes["staging/stg_x__mentions"]) == ["x/mentions"]
    assert _deps(nodes["x/mentions"]) == []
    assert "marts/fct_conversations" in _deps(nodes["serving/published_marts"])
    # dbt tests and the quality suites are there as asset checks
    checks = sum(len(n["assetChecksOrError"].get("checks", [])) for n in nodes.values())
    assert checks == len(list(graph.asset_check_keys))


def test_webserver_shows_the_nightly_and_backfill_jobs(repository: dict) -> None:
    jobs = {j["name"] for j in repository["jobs"]}
    assert {"nightly", "backfill"} <= jobs


def test_webserver_shows_the_schedule_running_by_default(repository: dict) -> None:
    schedules = {s["name"]: s for s in repository["schedules"]}
    assert set(schedules) == {SCHEDULE}
    schedule = schedules[SCHEDULE]
    assert schedule["cronSchedule"] == "0 2 * * *"
    assert schedule["executionTimezone"] == "Europe/Berlin"
    assert schedule["pipelineName"] == "nightly"
    # a fresh DAGSTER_HOME holds no state for it: RUNNING is the schedule's default status
    assert schedule["scheduleState"]["status"] == "RUNNING"


# --- dagster job execute with nothing configured ----------------------------------------------

@pytest.mark.parametrize(("salt", "says"), [
    (None, "configuration: RAPPORT_CONTACT_KEY_SALT is not set"),
    ("a-salt-of-this-test-0123456789", "configuration: no source is configured"),
], ids=["no-salt", "no-source"])
def test_nightly_with_nothing_configured_stops_as_configuration_error(
        tmp_path: Path, salt: str | None, says: str) -> None:
    # run from an empty folder: dlt reads .dlt/ of the working directory, and a developer's own
    # git-ignored .dlt/secrets.toml must not switch a source on here
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = tool_env(tmp_path)
    if salt:
        env["RAPPORT_CONTACT_KEY_SALT"] = salt
    done, took = run_tool([str(DAGSTER), "job", "execute", "-m", "orchestration.definitions",
                           "-j", "nightly"], env, cwd=cwd, timeout=300)
    out = done.stdout + done.stderr
    assert done.returncode != 0, out[-4000:]
    assert DEFINITIONS_CLASH not in out
    # the first steps of the run (ingestion) refuse, before any work: nothing downstream runs
    failed = sorted(re.findall(r" - (\S+) - STEP_FAILURE - ", out))
    assert failed == [f"ingest_{s}" for s in ("crm", "inbox", "mastodon", "meta", "x")], failed
    assert says in out, out[-4000:]
    assert " - rapport_dbt_assets - STEP_START - " not in out
    # configuration errors are not retried ...
    assert "STEP_UP_FOR_RETRY" not in out
    assert "will be retried" not in out.lower()
    assert took < 120, f"took {took:.0f}s"
    # ... and not recorded as a failed night: no status anywhere, nothing published, and no
    # warehouse written
    serving = Path(env["RAPPORT_SERVING_DIR"])
    assert not (serving / "status.json").exists()
    assert not list(tmp_path.rglob("status.json"))
    assert not Path(env["RAPPORT_WAREHOUSE"]).exists()


# --- make dev ---------------------------------------------------------------------------------

def _dev_command(*make_args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(["make", "-n", "dev", *make_args], cwd=REPO_ROOT,
                          env=env or os.environ.copy(), capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if "dagster dev" in line]
    assert len(lines) == 1, done.stdout
    return lines[0]


def _host_port(command: str) -> tuple[str, str]:
    match = re.search(r"/dagster dev -h (\S+) -p (\S+)$", command)
    assert match, command
    return match.group(1), match.group(2)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_dev_takes_port_and_host() -> None:
    default = _dev_command()
    assert _host_port(default) == ("127.0.0.1", "3000")
    assert ".venv/bin/dagster dev -h" in default
    assert default.startswith('PATH="')  # the venv's bin first, so dagster-dbt finds dbt
    assert _host_port(_dev_command("PORT=3101")) == ("127.0.0.1", "3101")
    assert _host_port(_dev_command("PORT=3101", "HOST=0.0.0.0")) == ("0.0.0.0", "3101")
    # a PORT or HOST some other tool exported does not move the UI: only make's arguments do
    env = {**os.environ, "PORT": "8080", "HOST": "example.org"}
    assert _host_port(_dev_command(env=env)) == ("127.0.0.1", "3000")
