"""Deleted content purged from the raw tables once the dbt build has applied the tombstones,
and from the disk: the warehouse file is compacted when the purge changed anything."""

import time

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from ingestion.purge import compact_warehouse, compaction_due, connect_alone, purge_deleted
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
    "removed it from every model, then compacts the warehouse file when anything was purged "
    "(a fresh copy replaces it, so no freed block keeps the old text). Platform terms and "
    "privacy law expect deleted content to leave copies.",
)
def purge_deleted_raw(context: AssetExecutionContext) -> MaterializeResult:
    """Purge tombstoned content from the raw layer; rows changed per table as metadata."""
    purged: dict[str, int] = {}
    if warehouse_path().exists():  # else nothing has loaded yet (and no file is made)
        con = connect_alone(warehouse_path())
        try:
            purged = purge_deleted(con)
        finally:
            con.close()
    total = sum(purged.values())
    context.log.info(f"purged deleted content from {total} raw rows"
                     + (f": {purged}" if purged else ""))
    metadata = {"rows_purged": MetadataValue.int(total),
                "rows_purged_per_table": MetadataValue.json(purged)}
    due = compaction_due(warehouse_path())
    if purged:
        due.touch()  # owed until a compaction succeeds, so a failed one is retried next night
    if due.exists():
        # The purge connection is closed: this asset runs in the writer pool after every
        # model, so nothing of the night holds the file; anything else holding it (a BI tool
        # on the working file) fails the asset with WarehouseBusy naming it, the purged rows
        # stay purged and the next night compacts.
        started = time.monotonic()
        before, after = compact_warehouse(warehouse_path())
        seconds = time.monotonic() - started
        context.log.info(f"compacted the warehouse: {before / 1e6:.1f} MB -> "
                         f"{after / 1e6:.1f} MB in {seconds:.1f}s")
        metadata.update(warehouse_bytes_before=MetadataValue.int(before),
                        warehouse_bytes_after=MetadataValue.int(after),
                        compaction_seconds=MetadataValue.float(round(seconds, 3)))
        due.unlink()
    return MaterializeResult(metadata=metadata)
