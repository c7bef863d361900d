"""One Dagster asset per dlt resource, keyed ``[source, table]`` like the dbt sources."""


from collections.abc import Iterator
from typing import Any

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData

from ingestion.pipelines import (
    SOURCES,
    dataset_name,
    ensure_warehouse_dir,
    finish_interrupted,
    make_pipeline,
    schema_only,
)
from ingestion.sources.rest import REQUEST_STATS, RequestStats
from orchestration.assets.window import BackfillWindow
from orchestration.preflight import source_or_fail

# Every asset that writes the DuckDB file runs in this pool; its limit is 1 (dagster.yaml).
DUCKDB_POOL = "duckdb_writer"
# Sources that can re-read a time range (API sources); the file sources (inbox, crm) pick up
# new and changed files (a manifest by name and content) whatever the run, so a backfill
# leaves them incremental.
WINDOWED_SOURCES = frozenset({"x", "meta", "mastodon"})


class RawTableTranslator(DagsterDltTranslator):
    """Keys a dlt resource ``[source, table]``: the key dagster-dbt gives the dbt source table,
    so dlt tables are the direct upstreams of staging and no phantom assets appear."""

    def get_asset_spec(self, data: DltResourceTranslatorData) -> AssetSpec:
        spec = super().get_asset_spec(data)
        source = data.resource.source_name
        return spec.replace_attributes(
            key=AssetKey([source, data.resource.table_name]),
            deps=[],
            group_name="raw",
            description=_first_line(data.resource.__doc__)
            or f"{source} {data.resource.name} in {dataset_name(source)}",
        )


def _first_line(doc: str | None) -> str:
    return (doc or "").strip().split("\n")[0]


def _source_assets(name: str) -> AssetsDefinition:
    @dlt_assets(
        dlt_source=SOURCES[name](),
        dlt_pipeline=make_pipeline(name),
        name=f"ingest_{name}",
        dagster_dlt_translator=RawTableTranslator(),
        pool=DUCKDB_POOL,
    )
    def _assets(context: AssetExecutionContext, dlt: DagsterDltResource,
                backfill: BackfillWindow):
        # Built anew at run time so settings are read when the run starts, not at import.
        config = source_or_fail(name)
        ensure_warehouse_dir()
        REQUEST_STATS.pop(name, None)
        pipeline = make_pipeline(name)
        finish_interrupted(pipeline, warn=context.log.warning)
        if not config.configured:
            # Its tables are created empty, so staging and the marts build without it.
            context.log.info(f"{name}: not configured, skipped tonight ({config.notes[0]})")
            events = dlt.run(context=context, dlt_source=schema_only(name),
                             dlt_pipeline=pipeline)
            yield from _with_state(events, config.state)
            return
        window = backfill.source_args() if name in WINDOWED_SOURCES else {}
        if window:
            context.log.info(f"backfill of {name}: {window['start']} to {window['end']}")
        events = dlt.run(context=context, dlt_source=SOURCES[name](**window),
                         dlt_pipeline=pipeline)
        yield from _with_state(_with_api_stats(context, name, events), config.state)

    return _assets


def _with_state(events: Iterator[Any], state: str) -> Iterator[Any]:
    """The events, each materialization saying whether its source was configured tonight."""
    for event in events:
        if isinstance(event, MaterializeResult):
            event = event._replace(metadata={**(event.metadata or {}), "source_state": state})
        yield event


def _with_api_stats(context: AssetExecutionContext, name: str, events: Iterator[Any]
                    ) -> Iterator[Any]:
    """The dlt events, each table's materialization carrying what its source's API calls cost
    in this run (requests, retries, seconds waiting for answers), so the Dagster UI shows
    rate limits and slow nights per source over time. File sources make no API calls."""
    logged = False
    for event in events:
        stats = REQUEST_STATS.get(name)
        if stats is not None and isinstance(event, MaterializeResult):
            if not logged:
                context.log.info(f"{name}: {stats.requests} API requests, {stats.retries} "
                                 f"retried, {stats.seconds:.1f}s waiting for answers")
                logged = True
            event = event._replace(metadata={**(event.metadata or {}), **_api_metadata(stats)})
        yield event


def _api_metadata(stats: RequestStats) -> dict[str, MetadataValue]:
    return {"source_api_requests": MetadataValue.int(stats.requests),
            "source_api_retries": MetadataValue.int(stats.retries),
            "source_api_seconds": MetadataValue.float(round(stats.seconds, 3))}


raw_assets = [_source_assets(name) for name in SOURCES]
