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
    # after the whole dbt build: the models that apply tombstones read staging (the raw rows)
    # to find what a Mastodon notification or a Messenger thread removes
    deps=sorted(rapport_dbt_assets.keys, key=lambda k: k.to_user_string()),
    group_name="privacy",
    pool=DUCKDB_POOL,
    description="Deletes from the raw tables (and dlt's staging copies and the quarantine) "
    "the content the platforms reported deleted (int_tombstones), after dbt has removed it "
    "from every model. Platform terms and privacy law expect deleted content to leave copies.",
)
def purge_deleted_raw(context: AssetExecutionContext) -> MaterializeResult:
    """Purge tombstoned content from the raw layer; rows deleted per table as metadata."""
    purged: dict[str, int] = {}
    if warehouse_path().exists():  # else nothing has loaded yet (and no file is made)
        con = duckdb.connect(str(warehouse_path()))
        try:
            purged = purge_deleted(con)
        finally:
            con.close()
    total = sum(purged.values())
    context.log.info(f"purged {total} raw rows of deleted content"
                     + (f": {purged}" if purged else ""))
    return MaterializeResult(metadata={
        "rows_purged": MetadataValue.int(total),
        "rows_purged_per_table": MetadataValue.json(purged),
    })
