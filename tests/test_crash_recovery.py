"""Ingestion killed at any point and re-run loses nothing and doubles nothing."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingestion import pipelines
from ingestion.demo.config import demo_environment
from ingestion.demo.generator import generate
from ingestion.demo.replay import ReplayServer
from tests.conftest import query
from tests.ingestion.test_file_exports import FIXTURES as EXPORTS
from tests.ingestion.test_file_exports import HEADER

CHILD = """
from ingestion import pipelines
for name in pipelines.SOURCES:
    pipelines.run(name)
"""
# Kill after this many API requests (extraction), or after this share of a clean run's
# duration (extraction, normalisation or loading, whichever is under way).
REQUEST_KILL_POINTS = (1, 4, 9, 17, 33, 60)
TIME_KILL_POINTS = (0.05, 0.15, 0.3, 0.45, 0.6, 0.75)


def raw_digest(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Rows and a content digest per raw table, ignoring dlt's own load bookkeeping."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema like 'raw\\_%' escape '\\' and table_schema not like '%staging' "
            "and table_name not like '\\_dlt%' escape '\\' order by 1, 2").fetchall()
        digests = {}
        for schema, table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from information_schema.columns where table_schema = ? "
                "and table_name = ? and column_name not like '\\_dlt%' escape '\\' "
                "order by column_name", [schema, table]).fetchall()]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from {schema}."{table}" order by all').fetchall()
            digests[f"{schema}.{table}"] = (len(rows),
                                            hashlib.sha256(repr(rows).encode()).hexdigest())
        return digests
    finally:
        con.close()


def child_env(env: dict[str, str], warehouse: Path) -> dict[str, str]:
    return {**os.environ, **env, "RAPPORT_WAREHOUSE": str(warehouse)}


@pytest.fixture(scope="module")
def crash_setup(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("crash")
    generate(root / "demo", seed=11, interactions=1500, page_size=20)
    payloads = root / "demo" / "payloads"
    with ReplayServer(payloads) as server:
        env = demo_environment(payloads, server.url)
        reference = root / "reference" / "rapport.duckdb"
        began = time.monotonic()
        subprocess.run([sys.executable, "-c", CHILD], env=child_env(env, reference),
                       check=True, capture_output=True)
        duration = time.monotonic() - began
        yield root, server, env, raw_digest(reference), duration


def kill_and_rerun(crash_setup, name: str, after_requests: int | None,
                   after_seconds: float | None) -> tuple[dict, bool]:
    root, server, env, _, _ = crash_setup
    warehouse = root / name / "rapport.duckdb"
    start = len(server.requests)
    child = subprocess.Popen([sys.executable, "-c", CHILD], env=child_env(env, warehouse),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    began = time.monotonic()
    while child.poll() is None:
        if after_requests is not None and len(server.requests) - start >= after_requests:
            break
        if after_seconds is not None and time.monotonic() - began >= after_seconds:
            break
        time.sleep(0.005)
    killed = child.poll() is None
    if killed:
        child.send_signal(signal.SIGKILL)
    child.wait()
    rerun = subprocess.run([sys.executable, "-c", CHILD], env=child_env(env, warehouse),
                           capture_output=True, text=True)
    assert rerun.returncode == 0, (
        f"the re-run after the kill (killed={killed}) failed:\n{rerun.stderr[-6000:]}")
    return raw_digest(warehouse), killed


@pytest.mark.parametrize("requests", REQUEST_KILL_POINTS)
def test_killed_during_extraction_then_rerun_matches_a_clean_run(crash_setup, requests) -> None:
    digest, killed = kill_and_rerun(crash_setup, f"req{requests}", requests, None)
    assert killed, "the kill point came after the whole ingestion finished"
    assert digest == crash_setup[3]


@pytest.mark.parametrize("share", TIME_KILL_POINTS)
def test_killed_at_any_moment_then_rerun_matches_a_clean_run(crash_setup, share) -> None:
    digest, _ = kill_and_rerun(crash_setup, f"t{share}", None, share * crash_setup[4])
    assert digest == crash_setup[3]


def _inbox_file(folder: Path, name: str, message_id: str) -> None:
    (folder / name).write_text(
        f"{HEADER}\n{message_id},x,111,support,agent_01,,,open,2026-09-03T09:00:00Z,\n")


@pytest.mark.parametrize("died_after", ["extract", "normalize"])
def test_the_run_after_an_interrupted_one_lands_the_leftover_and_its_own_night(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        died_after: str) -> None:
    """dlt's own run() would load the leftover package and return, skipping tonight's file."""
    folder = tmp_path / "inbox"
    shutil.copytree(EXPORTS / "inbox", folder)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    pipelines.run("inbox")  # a first night that went well

    _inbox_file(folder, "inbox_export_2026-09-03.csv", "1790000000000000901")
    interrupted = pipelines.make_pipeline("inbox")
    interrupted.extract(pipelines.SOURCES["inbox"]())
    if died_after == "normalize":
        interrupted.normalize()
    # ... and the process died here, leaving its package pending.
    _inbox_file(folder, "inbox_export_2026-09-04.csv", "1790000000000000902")

    pipelines.run("inbox")

    ids = {row[0] for row in query(
        isolated_env, "select cast(message_id as varchar) from raw_inbox.inbox_messages")}
    loads = query(isolated_env, "select count(*) from raw_inbox._dlt_loads where status = 0")
    assert {"1790000000000000003", "1790000000000000901", "1790000000000000902"} <= ids
    assert loads == [(3,)]


@pytest.mark.parametrize("left", ["whole", "partly deleted"])
def test_a_run_killed_while_committing_its_normalized_package_is_finished_next_time(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, left: str) -> None:
    """dlt renames the normalized package into place, then deletes the extracted copy; killed
    in between (seen in CI), both copies are left and dlt's next normalize fails on them."""
    folder = tmp_path / "inbox"
    shutil.copytree(EXPORTS / "inbox", folder)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    pipelines.run("inbox")
    _inbox_file(folder, "inbox_export_2026-09-03.csv", "1790000000000000901")
    interrupted = pipelines.make_pipeline("inbox")
    interrupted.extract(pipelines.SOURCES["inbox"]())
    (load_id,) = interrupted.list_extracted_load_packages()
    extracted = Path(interrupted.working_dir) / "normalize" / "extracted" / load_id
    kept = tmp_path / "extracted_copy"
    shutil.copytree(extracted, kept)
    interrupted.normalize()
    # ... killed during the deletion of the extracted copy:
    shutil.copytree(kept, extracted)
    if left == "partly deleted":
        shutil.rmtree(extracted / "new_jobs")
    assert load_id in pipelines.make_pipeline("inbox").list_extracted_load_packages()
    _inbox_file(folder, "inbox_export_2026-09-04.csv", "1790000000000000902")

    pipelines.run("inbox")

    ids = {row[0] for row in query(
        isolated_env, "select cast(message_id as varchar) from raw_inbox.inbox_messages")}
    assert {"1790000000000000901", "1790000000000000902"} <= ids
    assert query(isolated_env,
                 "select count(*) from raw_inbox._dlt_loads where status = 0") == [(3,)]
    assert not pipelines.make_pipeline("inbox").has_pending_data


def test_the_dagster_ingest_asset_also_lands_the_leftover_and_its_own_night(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """The nightly job's ingest asset lands the interrupted run's package first and says so in
    the run's log (the Dagster UI), then loads tonight's file. (dagster-dlt alone would drop
    the package and re-read from the cursors in the warehouse: fine for files, but API items
    that have since left the platform's window, such as X recent search's 7 days, would be
    lost.)"""
    import dagster as dg

    from orchestration.assets.ingestion import raw_assets
    from orchestration.resources import RESOURCES

    folder = tmp_path / "inbox"
    shutil.copytree(EXPORTS / "inbox", folder)
    monkeypatch.setenv("SOURCES__INBOX__BUCKET_URL", folder.as_uri())
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    pipelines.run("inbox")
    _inbox_file(folder, "inbox_export_2026-09-03.csv", "1790000000000000901")
    pipelines.make_pipeline("inbox").extract(pipelines.SOURCES["inbox"]())
    _inbox_file(folder, "inbox_export_2026-09-04.csv", "1790000000000000902")

    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        raw_assets, selection=dg.AssetSelection.assets(dg.AssetKey(["inbox", "inbox_messages"])),
        resources=RESOURCES, instance=instance)

    ids = {row[0] for row in query(
        isolated_env, "select cast(message_id as varchar) from raw_inbox.inbox_messages")}
    assert {"1790000000000000003", "1790000000000000901", "1790000000000000902"} <= ids
    assert query(isolated_env,
                 "select count(*) from raw_inbox._dlt_loads where status = 0") == [(3,)]
    warnings = [entry.user_message for entry in instance.all_logs(result.run_id)
                if entry.level == logging.WARNING and "interrupted run" in entry.user_message]
    assert len(warnings) == 1 and "rapport_inbox" in warnings[0]
