"""Reading CSV and JSONL export files (local folder or bucket URL) through dlt's filesystem source.

Each row carries the file and line it came from, so any value can be traced to its export.
Only files changed since the last successful load are read (incremental on
``modification_date``; the cursor moves only when the load lands).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import dlt
from dlt.sources.filesystem import FileItemDict, filesystem

from ingestion.sources.rest import require

SUPPORTED = (".csv", ".jsonl")


def export_files(bucket_url: str, file_glob: str):
    """The files of one export kind; new and changed files only."""
    return filesystem(bucket_url=bucket_url, file_glob=file_glob,
                      incremental=dlt.sources.incremental("modification_date"))


def read_rows(item: FileItemDict) -> Iterator[dict]:
    """Rows of one export file with ``_source_file`` and ``_source_line``; blanks become null."""
    name = item["file_name"]
    with item.open(mode="rb") as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        if name.endswith(".csv"):
            reader = csv.DictReader(text)
            for row in reader:
                yield {**{k: (v if v != "" else None) for k, v in row.items()},
                       "_source_file": name, "_source_line": reader.line_num}
        elif name.endswith(".jsonl"):
            for line_no, line in enumerate(text, start=1):
                if line.strip():
                    yield {**json.loads(line), "_source_file": name, "_source_line": line_no}
        else:
            raise ValueError(f"{name}: unsupported export file type (expected {SUPPORTED})")


def unconfigured(source: str, setting: str, name: str, **hints):
    """A resource that explains the missing setting when run.

    Lets the source be built (its resources listed, e.g. as Dagster assets) before it is
    configured, without ever loading nothing in silence.
    """

    def rows() -> Iterator[dict]:
        require(None, source, setting)
        yield from ()

    return dlt.resource(rows, name=name, **hints)


@dlt.transformer(name="export_rows")
def export_rows(items: list[FileItemDict]) -> Iterator[dict]:
    """Rows of every listed file, in file order."""
    for item in items:
        yield list(read_rows(item))
