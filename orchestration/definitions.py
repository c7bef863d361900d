"""The one Definitions object: assembled here, written in the modules it imports."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets.dbt import rapport_dbt_assets
from orchestration.assets.ingestion import raw_assets
from orchestration.resources import RESOURCES
from orchestration.schedules import nightly_job, nightly_schedule

# DuckDB allows one writer process: steps run one after another in the run's process.
defs = Definitions(
    assets=[*raw_assets, rapport_dbt_assets],
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    resources=RESOURCES,
    executor=in_process_executor,
)
