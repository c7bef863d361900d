"""The marts' contract as BI sees it: table and column descriptions and which columns never hold
NULL, read from the dbt manifest, so that the published copies carry them (issue 15: the
contract travels with the data).

The serving DuckDB file gets ``COMMENT ON`` for every table and column and ``NOT NULL`` on the
columns dbt tests ``not_null`` (or constrains); each Parquet file gets the table's description
and one entry per column in its key-value metadata.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ingestion.sql import sql_string


@dataclass
class MartDoc:
    """What the dbt project says about one mart."""

    description: str = ""
    columns: dict[str, str] = field(default_factory=dict)
    not_null: set[str] = field(default_factory=set)


def mart_docs(manifest: Path, schema: str = "marts") -> dict[str, MartDoc]:
    """Per mart of ``schema`` in the dbt ``manifest`` (target/manifest.json): its description,
    its column descriptions and the columns that must not be NULL."""
    nodes = json.loads(manifest.read_text(encoding="utf-8"))["nodes"]
    docs: dict[str, MartDoc] = {}
    by_id: dict[str, MartDoc] = {}
    for unique_id, node in nodes.items():
        if node.get("resource_type") == "model" and node.get("schema") == schema:
            doc = MartDoc(" ".join(node.get("description", "").split()),
                          {name: " ".join(column.get("description", "").split())
                           for name, column in node.get("columns", {}).items()})
            for name, column in node.get("columns", {}).items():
                if any(c.get("type") == "not_null" for c in column.get("constraints", [])):
                    doc.not_null.add(name)
            docs[node["name"]] = by_id[unique_id] = doc
    for node in nodes.values():
        metadata = node.get("test_metadata") or {}
        target = by_id.get(node.get("attached_node") or "")
        config = node.get("config") or {}
        # a not_null test with a `where` tests only some rows, one that only warns lets NULLs
        # through: neither is a guarantee of the column
        if (node.get("resource_type") == "test" and metadata.get("name") == "not_null"
                and target is not None and node.get("column_name") and not config.get("where")
                and str(config.get("severity", "error")).lower() != "warn"):
            target.not_null.add(node["column_name"])
    return docs


def comment_statements(table: str, doc: MartDoc, columns: list[str]) -> list[str]:
    """``COMMENT ON`` and ``SET NOT NULL`` statements for ``table`` (``schema."name"``) whose
    columns are ``columns``."""
    statements = [f"comment on table {table} is {sql_string(doc.description)}"]
    for column in columns:
        if doc.columns.get(column):
            statements.append(f'comment on column {table}."{column}" is '
                              f"{sql_string(doc.columns[column])}")
    statements += [f'alter table {table} alter column "{column}" set not null'
                   for column in columns if column in doc.not_null]
    return statements


def parquet_metadata(doc: MartDoc, columns: list[str]) -> str:
    """The ``KV_METADATA`` option of DuckDB's Parquet COPY: the table's description and one
    ``column:<name>`` entry per described column."""
    entries = {"description": doc.description,
               **{f"column:{c}": doc.columns[c] for c in columns if doc.columns.get(c)}}
    return "{" + ", ".join(f"{sql_string(k)}: {sql_string(v)}" for k, v in entries.items()) + "}"
