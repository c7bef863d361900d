"""Deleted content purged from the raw tables once the dbt build has applied the tombstones."""

import duckdb
from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.purge import purge_deleted
from ingestion.settings import warehouse_path
from orchestration.assets.dbt import rapport_dbt_assets
from orchestration.assets.ingestion import DUCKDB_POOL

PURGE = AssetKey(["privacy", "purge_deleted_content"])


@asset(
    key=PURGE,
    # after the whole dbt build: int_tombstones (built there) says what was deleted, and every
    # model has removed it before its raw text is overwritten
    deps=sorted(rapport_dbt_assets.keys, key=lambda k: k.to_user_string()),
    group_name="privacy",
    pool=DUCKDB_POOL,
    description="Overwrites in the raw tables (and dlt's staging copies; quarantine rows are "
    "deleted) the content the platforms reported deleted (int_tombstones), after dbt has "
    "removed it from every model. Platform terms and privacy law expect deleted content to "
    "leave copies.",
)
def purge_deleted_raw(context: AssetExecutionContext) -> MaterializeResult:
    """Purge tombstoned content from the raw layer; rows changed per table as metadata."""
    purged: dict[str, int] = {}
    if warehouse_path().exists():  # else nothing has loaded yet (and no file is made)
        con = duckdb.connect(str(warehouse_path()))
        try:
            purged = purge_deleted(con)
        finally:
            con.close()
    total = sum(purged.values())
    context.log.info(f"purged deleted content from {total} raw rows"
                     + (f": {purged}" if purged else ""))
    return MaterializeResult(metadata={
        "rows_purged": MetadataValue.int(total),
        "rows_purged_per_table": MetadataValue.json(purged),
    })
