"""The nightly job over every asset and its 02:00 Europe/Berlin schedule."""

from __future__ import annotations

from dagster import AssetSelection, Backoff, RetryPolicy, ScheduleDefinition, define_asset_job

# Transient failures (API hiccups, a busy file) get two more tries with growing pauses.
NIGHTLY_RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)

nightly_job = define_asset_job(
    "nightly",
    selection=AssetSelection.all(),
    description="Ingest every source, check it, build and test the dbt project, and publish "
    "the marts for BI when everything passed.",
    op_retry_policy=NIGHTLY_RETRY,
)

nightly_schedule = ScheduleDefinition(
    name="nightly_0200_berlin",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
)
