"""Resources shared by the assets: the dbt project, the dbt CLI and the dlt runner."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dlt import DagsterDltResource

from ingestion.settings import REPO_ROOT
from orchestration.assets.window import BackfillWindow

DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

# One DbtProject for the assets and the CLI resource. The manifest is built by `make prepare`
# (dbt parse); under `dagster dev` prepare_if_dev() rebuilds it when models change, running the
# `dbt` found on PATH (`make dev` puts the venv's first).
dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The dbt installed in this Python's environment (the venv), else whatever is on PATH."""
    beside = Path(sys.prefix) / "bin" / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


# What dagster-dbt starts instead of dbt: a wrapper that makes dbt die with its parent, so a
# killed orchestrator never leaves `dbt build` holding the warehouse (see the script).
DBT_WRAPPER = Path(__file__).parent / "bin" / "dbt"
REAL_DBT_ENV = "RAPPORT_DBT_EXECUTABLE"

RESOURCES = {
    "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_WRAPPER)),
    "dlt": DagsterDltResource(),
    # Empty: every run is the incremental night unless a backfill's run config sets days.
    "backfill": BackfillWindow(),
}
