"""Publishing the audited marts to what BI reads (see :mod:`orchestration.serving`)."""

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.configuration import check_sources
from ingestion.settings import serving_dir, warehouse_path
from orchestration.assets.dbt import rapport_dbt_assets
from orchestration.assets.ingestion import DUCKDB_POOL
from orchestration.contracts import mart_docs
from orchestration.resources import dbt_project
from orchestration.serving import publish

MART_KEYS = sorted((k for k in rapport_dbt_assets.keys if k.path[0] == "marts"),
                   key=lambda k: k.to_user_string())
# Staging models carry blocking quality checks too: depending on them makes publishing wait
# for those checks (all staging models are built in the same dbt step as the marts).
STAGING_KEYS = sorted((k for k in rapport_dbt_assets.keys if k.path[0] == "staging"),
                      key=lambda k: k.to_user_string())
PUBLISHED = AssetKey(["serving", "published_marts"])


@asset(
    key=PUBLISHED,
    deps=[*MART_KEYS, *STAGING_KEYS],
    group_name="serving",
    pool=DUCKDB_POOL,
    description="Every mart copied into the serving DuckDB file and a Parquet snapshot, with the "
    "dbt descriptions as comments and metadata and NOT NULL where dbt tests it, and the nightly "
    "report, switched in atomically. Runs only when everything upstream (ingestion, checks, dbt "
    "build) passed.",
)
def published_marts(context: AssetExecutionContext) -> MaterializeResult:
    """Publish the night's marts for BI."""
    target = serving_dir()
    sources = {name: config.state for name, config in check_sources().items()}
    status = publish(warehouse_path(), target, context.run_id,
                     data_as_of_sql="select max(created_at) from {marts}.fct_interactions",
                     sources=sources, docs=mart_docs(dbt_project.manifest_path))
    context.log.info(f"published {status.marts} to {target}; sources: "
                     + ", ".join(f"{name} {state}" for name, state in sources.items()))
    return MaterializeResult(metadata={
        "serving_file": MetadataValue.path(str(target / "rapport_serving.duckdb")),
        "published_at": status.published_at,
        "data_as_of": status.data_as_of or "",
        "rows_per_mart": MetadataValue.json(status.marts or {}),
        "sources": MetadataValue.json(sources),
    })
