"""The one Definitions object: assembled here, written in the modules it imports."""

from __future__ import annotations

from datetime import timedelta

from dagster import Definitions, FreshnessPolicy, apply_freshness_policy, in_process_executor

from orchestration.assets.dbt import rapport_dbt_assets
from orchestration.assets.ingestion import raw_assets
from orchestration.assets.publish import MART_KEYS, PUBLISHED, published_marts
from orchestration.assets.purge import purge_deleted_raw
from orchestration.checks import quality_checks
from orchestration.resources import RESOURCES
from orchestration.schedules import backfill_job, nightly_job, nightly_schedule
from orchestration.sensors import dead_runs, nightly_digest, nightly_failure, shitstorm_alerts

# A nightly product: marts and the published copy older than a day and a bit are stale.
NIGHTLY_FRESHNESS = FreshnessPolicy.time_window(
    fail_window=timedelta(hours=26), warn_window=timedelta(hours=25)
)


def _assemble() -> Definitions:
    """Every asset, check, job, schedule, sensor and resource, with the global policies.

    Built inside a function: Dagster's loaders (``dagster dev``, the daemon, ``dagster
    definitions validate``) refuse a module holding more than one Definitions object.
    """
    # DuckDB allows one writer process: steps run one after another in the run's process.
    assembled = Definitions(
        assets=[*raw_assets, rapport_dbt_assets, published_marts, purge_deleted_raw],
        asset_checks=[*quality_checks],
        jobs=[nightly_job, backfill_job],
        schedules=[nightly_schedule],
        sensors=[
            nightly_failure,
            shitstorm_alerts,
            dead_runs,
            nightly_digest,
        ],
        resources=RESOURCES,
        executor=in_process_executor,
    )
    return assembled.map_resolved_asset_specs(
        func=lambda spec: apply_freshness_policy(spec, NIGHTLY_FRESHNESS),
        selection=[*MART_KEYS, PUBLISHED],
    )


defs = _assemble()
