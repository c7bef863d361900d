"""API pages as Arrow tables: the bulk path into the warehouse.

dlt's normaliser turns Python dicts into rows at a few thousand rows per second; an Arrow
table skips it and is written straight to parquet (STACK.md trap 11). :func:`page_table` builds
the table the normaliser would have built, so the raw tables keep their shape:

- nested objects become ``parent__child`` columns (dlt's separator), at any depth;
- lists, and objects in a column declared ``json``, become one JSON text column (loaded as
  JSON); dlt would have made child tables of lists, which staging does not read;
- ISO 8601 times with a zone in a time column (``*_at``, ``*_time``, ``timestamp`` or a
  column declared ``timestamp``) become UTC timestamps, as dlt's timestamp detection does;
- a column whose values do not share one type (an unknown field sent as a number on one item
  and as text on the next) becomes JSON text instead of failing the page; a column that is
  null on every item of a page is left out, as dlt leaves out a column it has no value for.

Column names are normalised by dlt (``someField`` -> ``some_field``) as for dicts. Primary-key
columns are declared not null (screening made sure they are set).

JSON columns arrive as text and load into the JSON column: dlt warns about that hint
difference on every page, so that one warning is filtered from its logger (``INFO`` still
lists each difference).

Every raw table of an API source is declared (:func:`declare_raw_columns`, from the
source's ``schema.py``): the columns staging and the quality checks read, typed as this
module lands them, and dlt's lineage columns. A resource run that lands no rows (an endpoint
with nothing new, no DMs, no hashtags configured) still creates its table with them
(:func:`batched`), so staging and the checks find it.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common import json
from dlt.common.schema.typing import TColumnSchema, TDataType
from dlt.extract.items_transform import ItemTransform
from dlt.extract.resource import DltResource

from ingestion.sources.validation import path_value, quarantine, raw_json

SEPARATOR = "__"
_ISO_TIME = (r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d(:?\d\d)?)$")
_TIME_NAME = re.compile(r"(^|_)(at|time|timestamp)$")
UTC_MICROS = pa.timestamp("us", tz="UTC")
_HINT_WARNING = "when merging arrow schema with dlt schema, several column hints were different"


class _JsonTextHints(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return _HINT_WARNING not in record.getMessage()


logging.getLogger("dlt").addFilter(_JsonTextHints())


def _json_text(value: Any) -> str:
    try:
        return json.dumps(value)
    except TypeError:  # orjson refuses ints beyond 64 bits and lone surrogates
        return raw_json(value)


def flatten(item: dict, json_columns: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One item as flat columns: ``a: {b: 1}`` -> ``a__b: 1``, lists as JSON text."""
    out: dict[str, Any] = {}
    _flatten_into(item, "", json_columns, out)
    return out


def _flatten_into(item: dict, prefix: str, json_columns: frozenset[str],
                  out: dict[str, Any]) -> None:
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name not in json_columns:
            _flatten_into(value, name + SEPARATOR, json_columns, out)
        elif isinstance(value, list | dict):
            out[name] = _json_text(value)
        else:
            out[name] = value


def _column(values: list[Any], name: str, time_columns: frozenset[str]) -> pa.Array | None:
    try:
        array = pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        # Mixed types in one column: keep every value, as JSON text.
        array = pa.array([None if v is None else _json_text(v) for v in values], pa.string())
    if pa.types.is_null(array.type):
        return None
    if pa.types.is_string(array.type) and (name in time_columns or _TIME_NAME.search(name)):
        return _as_time(array)
    return array


def _as_time(array: pa.Array) -> pa.Array:
    present = array.drop_null()
    if len(present) == 0 or not pc.all(pc.match_substring_regex(present, _ISO_TIME)).as_py():
        return array
    try:
        return pc.cast(pc.replace_substring(array, " ", "T", max_replacements=1), UTC_MICROS)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return array


def page_table(items: list[dict], json_columns: frozenset[str] = frozenset(),
               time_columns: frozenset[str] = frozenset(),
               not_null: frozenset[str] = frozenset()) -> pa.Table:
    """The Arrow table of one page of items (see the module text for the mapping).

    Arrow infers the nested structure of the whole page at C speed; a page it cannot type
    (one field with values of different types) is built column by column in Python."""
    try:
        columns = _vectorised_columns(items, json_columns, time_columns)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        columns = _python_columns(items, json_columns, time_columns)
    fields = [pa.field(name, array.type, nullable=name not in not_null or array.null_count > 0)
              for name, array in columns]
    return pa.Table.from_arrays([array for _, array in columns], schema=pa.schema(fields))


def _python_columns(items: list[dict], json_columns: frozenset[str],
                    time_columns: frozenset[str]) -> list[tuple[str, pa.Array]]:
    rows = [flatten(item, json_columns) for item in items]
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = []
    for name in names:
        array = _column([row.get(name) for row in rows], name, time_columns)
        if array is not None:
            columns.append((name, array))
    return columns


def _vectorised_columns(items: list[dict], json_columns: frozenset[str],
                        time_columns: frozenset[str]) -> list[tuple[str, pa.Array]]:
    page = pa.array(items)
    columns: list[tuple[str, pa.Array]] = []
    _struct_columns(page, (), items, json_columns, time_columns, columns)
    return columns


def _struct_columns(struct: pa.StructArray, path: tuple[str, ...], items: list[dict],
                    json_columns: frozenset[str], time_columns: frozenset[str],
                    out: list[tuple[str, pa.Array]]) -> None:
    # flatten() applies the parent's nulls to every child (a missing author: all null).
    for field, child in zip(struct.type, struct.flatten(), strict=True):
        child_path = (*path, field.name)
        name = SEPARATOR.join(child_path)
        if pa.types.is_null(child.type):
            continue
        if pa.types.is_struct(child.type) and name not in json_columns:
            _struct_columns(child, child_path, items, json_columns, time_columns, out)
        elif pa.types.is_nested(child.type):
            # Lists and JSON objects: the JSON text of the values as sent (Arrow's inferred
            # struct would add null members an item never had).
            out.append((name, pa.array([_json_or_none(path_value(item, child_path))
                                        for item in items], pa.string())))
        elif pa.types.is_string(child.type) and (name in time_columns
                                                 or _TIME_NAME.search(name)):
            out.append((name, _as_time(child)))
        else:
            out.append((name, child))


def _json_or_none(value: Any) -> str | None:
    return None if value is None else _json_text(value)


# Rows per item handed to dlt: dlt checks the schema of every item it gets (a few ms each), so
# pages of 25-100 items are handed on in batches.
BATCH_ROWS = 5_000


def batched(generator: Callable[..., Iterator[Any]]) -> Callable[..., Iterator[Any]]:
    """Decorate a resource's generator function so that its pages (lists of dicts) reach dlt
    in lists of about :data:`BATCH_ROWS` items; anything else (quarantine rows marked for their
    table) passes at once. The signature stays visible to dlt's config injection.

    A call that yields no rows yields dlt's empty "materialize table schema" item instead, so
    the resource's table exists with its declared columns after a night without rows. A
    transformer gets that item from its empty parent as its input, finds no rows in it and
    yields its own, so child tables (comments of no posts) exist as well."""

    @functools.wraps(generator)
    def wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
        held: list[dict] = []
        landed = False
        for item in generator(*args, **kwargs):
            if isinstance(item, list) and all(isinstance(i, dict) for i in item):
                held.extend(item)
                if len(held) >= BATCH_ROWS:
                    yield held
                    held, landed = [], True
            else:
                yield item
        if held:
            yield held
        elif not landed:
            # Named for the resource's own table: a transformer's output would otherwise take
            # the marks of its input (a parent's quarantine rows go to another table).
            yield dlt.mark.with_table_name(dlt.mark.materialize_table_schema(),
                                           dlt.current.resource_name())

    return wrapper


# dlt's lineage columns, as its normaliser adds them to every row (make_pipeline has the
# parquet normaliser add them to Arrow tables too): staging orders versions by them.
LINEAGE_COLUMNS: dict[str, TColumnSchema] = {
    "_dlt_load_id": {"data_type": "text", "nullable": False, "precision": 64},
    "_dlt_id": {"data_type": "text", "nullable": False, "unique": True, "row_key": True,
                "precision": 64},
}


def declare_raw_columns(resource: DltResource, types: Mapping[str, TDataType]) -> None:
    """Declare the raw table of ``resource``: ``types`` (column -> dlt data type, as the
    Arrow path lands each column) and :data:`LINEAGE_COLUMNS` become column hints, which a
    night without rows materializes (see :func:`batched`) and dlt merges with the Arrow
    tables of a night with rows (equal types: no variant columns).

    The quarantine table variant is declared first, from the hints as they were: dlt starts a
    variant from the resource's hints, and the quarantine keeps its own shape."""
    resource.merge_hints(quarantine([], resource.name).meta.hints, create_table_variant=True)
    resource.apply_hints(columns={**{name: {"name": name, "data_type": data_type}
                                        for name, data_type in types.items()},
                                  **{name: {"name": name, **hints}
                                     for name, hints in LINEAGE_COLUMNS.items()}})


class ArrowPages(ItemTransform[Any, dict[str, Any]]):
    """A dlt step turning each page (a list of dicts) into an Arrow table, for a resource
    whose column hints are ``columns`` (``json`` and ``timestamp`` hints are honoured).

    dlt's own map step applies a function to each item of a page; this one takes the page."""

    def __init__(self, columns: dict[str, dict]) -> None:
        super().__init__(lambda item: item)
        self.not_null = frozenset(n for n, c in columns.items() if c.get("nullable") is False)
        self.json_columns = frozenset(
            n for n, c in columns.items() if c.get("data_type") == "json")
        self.time_columns = frozenset(
            n for n, c in columns.items() if c.get("data_type") == "timestamp")

    def __call__(self, item: Any, meta: Any = None) -> Any:
        if isinstance(item, list) and item and all(isinstance(i, dict) for i in item):
            return page_table(item, self.json_columns, self.time_columns, self.not_null)
        return item
