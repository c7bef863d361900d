"""Which source lands in which raw dataset of the warehouse; nothing platform-specific here."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Callable, Iterator
from typing import Any

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.common.typing import ConfigValueSentinel
from dlt.extract.resource import DltResource
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

log = logging.getLogger(__name__)

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
    # A loaded package's data files are copies of the rows it loaded, deleted content
    # included, and dlt keeps them for good unless told not to: they go once the package's
    # load lands (the package folder stays with its schema and state, which hold no rows).
    # Packages not loaded yet are untouched, so finish_interrupted still finds them.
    dlt.config["load.delete_completed_jobs"] = True
    return dlt.pipeline(
        pipeline_name=f"rapport_{source}",
        destination=dlt.destinations.duckdb(str(warehouse_path())),
        dataset_name=dataset_name(source),
        pipelines_dir=str(pipelines_dir()),
    )


def schema_only(source: str) -> DltSource:
    """``SOURCES[source]`` without its data: a source of the same name whose resources have
    the same names, tables and hints and read nothing; loaded, it creates every raw table of
    the source with its declared columns (API tables: ``schema.py`` of the source; file
    exports: ``ExportTable.declared_columns``) and lands no rows.

    It reads no settings at all, so it is what a night runs for a source that is not
    configured: ``make_pipeline(source).run(schema_only(source))``, and staging, the checks
    and the marts build with zero rows for it. A later configured night of the real source
    loads into the same tables (dlt adds the columns the declaration leaves out)."""
    factory = SOURCES[source]
    real = factory(**_without_settings(factory))
    return DltSource(real.schema.clone(), real.section,
                     [_materializer(resource) for resource in real.resources.values()])


def _without_settings(factory: Callable[..., DltSource]) -> dict[str, Any]:
    # Every argument given, settings as None and the rest at their defaults: dlt then looks
    # nothing up (no config file, no environment variable, no secret is read or required).
    return {name: None if isinstance(parameter.default, ConfigValueSentinel)
            else parameter.default
            for name, parameter in inspect.signature(factory).parameters.items()}


def _materializer(resource: DltResource) -> DltResource:
    """A resource with the name, table and hints of ``resource`` that only materializes its
    table (a transformer becomes a plain resource: it has no parent to read from)."""
    table = resource.compute_table_schema()

    def nothing() -> Iterator[Any]:
        yield dlt.mark.materialize_table_schema()

    return dlt.resource(nothing, name=resource.name, table_name=table["name"],
                        write_disposition=resource.write_disposition,
                        columns=table["columns"], file_format=table.get("file_format"),
                        schema_contract=resource.schema_contract)


def run(source: str) -> LoadInfo:
    """Extract, normalise and load one source with its configured settings (first finishing
    what an interrupted run left, see :func:`finish_interrupted`)."""
    ensure_warehouse_dir()
    pipeline = make_pipeline(source)
    finish_interrupted(pipeline)
    return pipeline.run(SOURCES[source]())


def finish_interrupted(pipeline: dlt.Pipeline,
                       warn: Callable[[str], object] | None = None) -> LoadInfo | None:
    """Normalise and load the packages a killed or failed run left behind, if any.

    dlt's ``run()`` finds such packages, loads them and returns without extracting: the night
    after a crash would land nothing of its own and look successful. Called before the run,
    the leftover lands first (its cursors were moved by its extract, so nothing is read twice)
    and the run then reads tonight's data. A leftover that fails to load again stops the run
    with dlt's error naming the package; ``dlt pipeline ... abort-packages`` discards it
    (docs/sources.md, "Paging and increments"). ``warn`` (default: this module's logger)
    receives the one line saying which packages are loaded.
    """
    if not pipeline.has_pending_data:
        return None
    _finish_normalize_commit(pipeline)
    packages = [*pipeline.list_extracted_load_packages(),
                *pipeline.list_normalized_load_packages()]
    (warn or log.warning)(f"{pipeline.pipeline_name}: loading the packages an interrupted run "
                          f"left ({', '.join(packages)}) before this run")
    if pipeline.list_extracted_load_packages():
        pipeline.normalize()
    return pipeline.load()


def _finish_normalize_commit(pipeline: dlt.Pipeline) -> None:
    """Delete the extracted copy of a package that is normalized already.

    dlt commits a normalized package by renaming it into place and then deleting its
    extracted copy; a run killed during that deletion leaves both, the extracted one partly
    deleted, and the next normalize fails on it (dlt logs "do not kill this process" there).
    The normalized package is complete (the rename is atomic), so the commit is finished here.
    """
    normalized = set(pipeline.list_normalized_load_packages())
    extracted = pipeline._get_normalize_storage().extracted_packages  # noqa: SLF001 (no public API)
    for load_id in pipeline.list_extracted_load_packages():
        if load_id in normalized:
            extracted.delete_package(load_id)


def ensure_warehouse_dir() -> None:
    """Create the folder of the warehouse file (DuckDB creates the file, not its folder)."""
    warehouse_path().parent.mkdir(parents=True, exist_ok=True)
