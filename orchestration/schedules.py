"""The nightly job over every asset and its 02:00 Europe/Berlin schedule."""

from __future__ import annotations

from dagster import AssetSelection, ScheduleDefinition, define_asset_job

nightly_job = define_asset_job(
    "nightly",
    selection=AssetSelection.all(),
    description="Ingest every source, then build and test the dbt project.",
)

nightly_schedule = ScheduleDefinition(
    name="nightly_0200_berlin",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
)
