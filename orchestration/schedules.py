"""The nightly job over every asset and its 02:00 Europe/Berlin schedule; the backfill job."""

from __future__ import annotations

import socket

from dagster import (
    AssetSelection,
    Backoff,
    Config,
    DefaultScheduleStatus,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    config_mapping,
    define_asset_job,
    schedule,
)
from pydantic import Field

from orchestration.checks import quality_checks
from orchestration.checks.suites import ROW_COUNT_CHECK
from orchestration.preflight import preflight
from orchestration.runs import HOST_TAG, reap_dead_runs

# Transient failures (API hiccups, a busy file) get two more tries with growing pauses.
NIGHTLY_RETRY = RetryPolicy(max_retries=2, delay=10, backoff=Backoff.EXPONENTIAL)

nightly_job = define_asset_job(
    "nightly",
    selection=AssetSelection.all(),
    description="Ingest every source, check it, build and test the dbt project, and publish "
    "the marts for BI when everything passed.",
    op_retry_policy=NIGHTLY_RETRY,
)


@schedule(
    name="nightly_0200_berlin",
    job=nightly_job,
    cron_schedule="0 2 * * *",
    execution_timezone="Europe/Berlin",
    # On as soon as a daemon runs (`dagster dev` starts one): a warehouse that is set up
    # should not sit idle until someone finds the toggle in the UI.
    default_status=DefaultScheduleStatus.RUNNING,
    description="The nightly job at 02:00 Europe/Berlin. A tick whose configuration does not "
    "pass `rapport check` is skipped with the reason instead of launching a run that fails. "
    "Runs killed earlier are failed first and their writer-pool slots freed.",
)
def nightly_schedule(context: ScheduleEvaluationContext) -> RunRequest | SkipReason:
    """Launch tonight's run, unless the configuration would stop it.

    A night killed before (its process gone, its run still STARTED) would hold the
    ``duckdb_writer`` slot and make tonight's steps wait forever: it is failed and its slot
    freed first. The run is tagged with this host, where the default run launcher starts it,
    so that the PID its worker reports can be checked later."""
    reap_dead_runs(context.instance, by="the nightly schedule's evaluation")
    report = preflight()
    if not report.ok:
        return SkipReason("configuration: " + "; ".join(report.problems))
    return RunRequest(tags={HOST_TAG: socket.gethostname()})


# Row counts compare a whole night with the last accepted night; a backfill is not a night (it
# re-reads a few old days), so it neither compares its counts nor records them as a baseline.
ROW_COUNT_CHECKS = [key for checks in quality_checks for key in checks.check_keys
                    if key.name == ROW_COUNT_CHECK]


class BackfillRunConfig(Config):
    """What the Dagster UI asks for when launching a backfill."""

    start: str = Field(description="First day to backfill (UTC), YYYY-MM-DD.")
    end: str = Field(description="Last day to backfill (UTC, included), YYYY-MM-DD.")
    dbt_full_refresh: bool = Field(
        default=False, description="Rebuild the incremental dbt models from scratch as well.")


@config_mapping(config_schema=BackfillRunConfig.to_config_schema())
def _backfill_resources(config: dict) -> dict:
    # the days go to the one resource every asset of the run reads them from
    return {"resources": {"backfill": {"config": dict(config)}}}


backfill_job = define_asset_job(
    "backfill",
    selection=AssetSelection.all() - AssetSelection.checks(*ROW_COUNT_CHECKS),
    config=_backfill_resources,
    description="Re-read the days start..end (UTC, both included) from the API sources "
    "(their incremental cursors stay where the nightly run left them), rebuild the dbt "
    "project re-processing those days, check and publish. One run for the whole range.",
    op_retry_policy=NIGHTLY_RETRY,
)
