"""Which source lands in which raw dataset of the warehouse; nothing platform-specific here."""

from __future__ import annotations

import os
from collections.abc import Callable

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract.source import DltSource

from ingestion.settings import pipelines_dir, warehouse_path
from ingestion.sources.crm import crm_source
from ingestion.sources.inbox import inbox_source
from ingestion.sources.mastodon import mastodon_source
from ingestion.sources.meta import meta_source
from ingestion.sources.x import x_source

# dlt reports anonymous usage to dlthub unless told not to; a warehouse of people's
# conversations phones home to nobody (an explicit setting still wins).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

SOURCES: dict[str, Callable[..., DltSource]] = {
    "x": x_source,
    "meta": meta_source,
    "mastodon": mastodon_source,
    "inbox": inbox_source,
    "crm": crm_source,
}


def dataset_name(source: str) -> str:
    """Raw schema a source lands in: ``raw_<source>``."""
    return f"raw_{source}"


def make_pipeline(source: str) -> dlt.Pipeline:
    """The dlt pipeline that loads ``source`` into the warehouse file."""
    # Arrow tables (the bulk path) get the same lineage columns as rows from dicts: staging
    # orders versions by _dlt_load_id whichever path a table came through.
    dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
    dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
    return dlt.pipeline(
        pipeline_name=f"rapport_{source}",
        destination=dlt.destinations.duckdb(str(warehouse_path())),
        dataset_name=dataset_name(source),
        pipelines_dir=str(pipelines_dir()),
    )


def run(source: str) -> LoadInfo:
    """Extract, normalise and load one source with its configured settings."""
    ensure_warehouse_dir()
    return make_pipeline(source).run(SOURCES[source]())


def ensure_warehouse_dir() -> None:
    """Create the folder of the warehouse file (DuckDB creates the file, not its folder)."""
    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
