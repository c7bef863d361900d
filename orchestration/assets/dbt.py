"""The whole dbt project as one set of assets; dbt tests become asset checks."""


import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, Failure
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    dbt_assets,
)

from ingestion.pipelines import ensure_warehouse_dir
from orchestration.assets.ingestion import DUCKDB_POOL
from orchestration.assets.window import BackfillWindow
from orchestration.preflight import dbt_config_or_fail
from orchestration.resources import REAL_DBT_ENV, dbt_executable, dbt_project


class LayerTranslator(DagsterDbtTranslator):
    """Groups dbt nodes by layer folder (staging, intermediate, marts) and seeds as config."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LayerTranslator(
        settings=DagsterDbtTranslatorSettings(enable_asset_checks=True,
                                              enable_source_metadata=False)),
    pool=DUCKDB_POOL,
)
def rapport_dbt_assets(context: AssetExecutionContext, dbt: DbtCliResource,
                       backfill: BackfillWindow):
    """Seeds, staging, intermediate and mart models, built and tested with `dbt build`.

    Incremental models re-process their lookback (var ``lookback_days``) every run; a backfill
    passes its window as the vars ``window_start``/``window_end`` so they re-process it too.
    """
    dbt_config_or_fail()  # a real salt (keys not computable from the README), the seeds
    ensure_warehouse_dir()
    # the dbt that the wrapper (resources.DBT_WRAPPER, dies with this process) runs
    os.environ.setdefault(REAL_DBT_ENV, dbt_executable())
    invocation = dbt.cli(["build", *backfill.dbt_args()], context=context, raise_on_error=False)
    yield from invocation.stream()
    prune_target_dirs(invocation.target_path)
    if not invocation.is_successful():
        # Failed models or tests are not transient: retrying the build cannot fix the data.
        raise Failure(description="dbt build failed: see the failed models and checks above",
                      allow_retries=False)


# dagster-dbt gives every invocation a target folder of its own (~20 MB of compiled SQL and
# run results at the demo's size): a nightly installation would keep one per night forever.
KEEP_TARGET_DIRS = 3


def prune_target_dirs(current: Path, keep: int = KEEP_TARGET_DIRS) -> list[Path]:
    """Delete all but the ``keep`` newest invocation folders beside ``current`` (which is
    always kept); returns what was deleted."""
    prefix = current.name.split("-")[0] + "-"
    folders = sorted((p for p in current.parent.iterdir()
                      if p.is_dir() and p.name.startswith(prefix) and p != current),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    deleted = folders[max(keep - 1, 0):]
    for folder in deleted:
        shutil.rmtree(folder, ignore_errors=True)
    return deleted
