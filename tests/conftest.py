"""Shared fixtures: small demo data sets and a warehouse built by the real nightly job."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

DEMO_SEED = 7
DEMO_INTERACTIONS = 4000


def _ensure_dbt_manifest() -> None:
    # `make test` builds it; a bare `pytest` gets it here so Dagster definitions can load.
    if not (REPO_ROOT / "dbt_project" / "target" / "manifest.json").exists():
        dbt = Path(sys.executable).parent / "dbt"
        subprocess.run([str(dbt), "parse", "--profiles-dir", ".", "--quiet"],
                       cwd=REPO_ROOT / "dbt_project", check=True)


_ensure_dbt_manifest()


@dataclass
class DemoRun:
    """A demo data set loaded by the nightly job into its own warehouse."""

    data_dir: Path
    warehouse: Path
    summary: dict
    conversations: list[dict]
    contacts: list[dict]

    def query(self, sql: str) -> list[tuple]:
        return query(self.warehouse, sql)


def query(warehouse: Path, sql: str) -> list[tuple]:
    """Rows of ``sql`` on a warehouse file, read-only (as a separate reader would)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def read_jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="session")
def demo_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated demo data set (payloads + ground truth)."""
    from ingestion.demo.generator import generate

    out = tmp_path_factory.mktemp("demo") / "data"
    generate(out, seed=DEMO_SEED, interactions=DEMO_INTERACTIONS)
    return out


def run_nightly_on(data_dir: Path, warehouse: Path) -> bool:
    """Serve ``data_dir`` on loopback and run the real nightly job into ``warehouse``."""
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer
    from orchestration.cli import run_nightly

    payloads = data_dir / "payloads"
    with ReplayServer(payloads) as server, pytest.MonkeyPatch.context() as mp:
        for key, value in demo_environment(payloads, server.url).items():
            mp.setenv(key, value)
        mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        mp.delenv("DAGSTER_HOME", raising=False)
        return run_nightly()


@pytest.fixture(scope="session")
def demo_run(demo_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    """The demo data loaded and modelled by one nightly run."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "rapport.duckdb"
    assert run_nightly_on(demo_data, warehouse), "the nightly job failed on demo data"
    truth = demo_data / "ground_truth"
    yield DemoRun(
        data_dir=demo_data,
        warehouse=warehouse,
        summary=json.loads((truth / "summary.json").read_text()),
        conversations=read_jsonl(truth / "conversations.jsonl"),
        contacts=read_jsonl(truth / "contacts.jsonl"),
    )


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No source settings from the environment; a private warehouse path and a salt."""
    for key in list(os.environ):
        if key.startswith("SOURCES__"):
            monkeypatch.delenv(key)
    warehouse = tmp_path / "warehouse" / "rapport.duckdb"
    monkeypatch.setenv("RAPPORT_WAREHOUSE", str(warehouse))
    # what a real installation sets (runs refuse to start without it, see preflight)
    monkeypatch.setenv("RAPPORT_CONTACT_KEY_SALT", "test-salt-of-an-isolated-warehouse")
    return warehouse
