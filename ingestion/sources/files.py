"""Reading CSV and JSONL export files (local folder or bucket URL) through dlt's filesystem source.

Each export table declares its schema (:class:`ExportTable`): the columns that must hold a value
and the columns that must be ISO-8601 times. Rows that keep to it are yielded as Arrow tables
(the bulk path: dlt writes them as parquet, no per-row normaliser), times as UTC timestamps,
every other value as text, each row with the file and line it came from. Rows that break it go
to ``<table>_quarantine`` with file, line, the raw row text and the reason, so rows in the files
always equal rows loaded plus rows quarantined.

Only files changed since the last successful load are read (incremental on
``modification_date``, one cursor per export table; the cursor moves only when the load lands).
A bucket that cannot be listed or read stops the source with :class:`BucketAccessError`, which
names the source and the bucket but never a credential.
"""

from __future__ import annotations

import codecs
import csv
import io
import json as stdjson
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import dlt
import pyarrow as pa
from dlt.common import json
from dlt.common.storages.fsspec_filesystem import fsspec_filesystem, glob_files
from dlt.sources import DltResource
from dlt.sources.filesystem import FileItemDict
from dlt.sources.filesystem.helpers import FilesystemConfigurationResource

from ingestion.sources.rest import require
from ingestion.sources.validation import FUTURE_TOLERANCE, Rejected, check_text

SUPPORTED = (".csv", ".jsonl")
# Rows per Arrow table handed to dlt: big enough to be fast, small enough to stay flat in memory.
CHUNK_ROWS = 50_000
LINEAGE = ("_source_file", "_source_line", "_source_order")
QUARANTINE_COLUMNS = {
    "source_file": {"data_type": "text"},
    "source_line": {"data_type": "bigint"},
    "raw_row": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "quarantined_at": {"data_type": "timestamp"},
    "_source_order": {"data_type": "bigint", "dedup_sort": "desc"},
}


@dataclass(frozen=True)
class ExportTable:
    """One kind of export file and the schema its rows must keep."""

    name: str
    file_glob: str
    primary_key: tuple[str, ...]
    required: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def hints(self) -> dict:
        """dlt hints: merge on the key; of one key read twice in a night, the later row wins."""
        return {"primary_key": self.primary_key, "write_disposition": "merge",
                "file_format": "parquet", "columns": {"_source_order": {"dedup_sort": "desc"}}}


class Quarantine(ValueError):
    """A row that breaks its table's declared schema; the message is the reason."""


class BucketAccessError(RuntimeError):
    """A bucket or folder a file source could not list or read.

    The message names the source, the bucket and the cause; credentials are kept out of it.
    """

    def __init__(self, source: str, bucket_url: str, action: str, cause: BaseException,
                 secrets: Mapping[str, object] | None = None) -> None:
        reason = _redact(f"{type(cause).__name__}: {cause}", secrets or {})
        super().__init__(f"source '{source}' could not {action} in bucket {_shown(bucket_url)}: "
                         f"{reason} (check the bucket URL and [sources.{source}.credentials])")
        self.source = source
        self.bucket_url = _shown(bucket_url)


# Settings whose values are credentials (AWS, GCP, Azure, SFTP names) and never shown.
_SECRET_SETTING = re.compile(r"key|secret|token|password|credential", re.IGNORECASE)


def _secret_values(settings: Mapping[str, object]) -> set[str]:
    found: set[str] = set()
    for name, value in settings.items():
        if isinstance(value, Mapping):
            found |= _secret_values(value)
        elif isinstance(value, str) and value and _SECRET_SETTING.search(name):
            found.add(value)
    return found


def _redact(text: str, settings: Mapping[str, object]) -> str:
    for value in sorted(_secret_values(settings), key=len, reverse=True):
        text = text.replace(value, "***")
    return text


def _shown(bucket_url: str) -> str:
    """The bucket URL without any user or password written into it."""
    parts = urlsplit(bucket_url)
    if parts.username is None and parts.password is None:
        return bucket_url
    host = parts.hostname or ""
    return urlunsplit(parts._replace(netloc=f"{host}:{parts.port}" if parts.port else host))


def export_files(bucket_url: str, table: ExportTable, source: str) -> DltResource:
    """The files of one export table in the bucket; new and changed files only.

    Credentials and the endpoint are dlt's filesystem credentials of the source, typed by the
    bucket's protocol: ``[sources.<source>.credentials]`` (e.g.
    ``SOURCES__INBOX__CREDENTIALS__ENDPOINT_URL``); for ``s3://`` without a key pair, AWS's
    default chain (environment, profile, instance role). Read when the files are listed.
    """

    # Named per table: each export table keeps its own modification_date cursor in the
    # source state (one shared name would let one table's newest file hide another's).
    @dlt.resource(name=f"{table.name}_files", spec=FilesystemConfigurationResource)
    def files(bucket_url: str = dlt.config.value, credentials=dlt.secrets.value,
              file_glob: str = "*", kwargs: dict | None = None, client_kwargs: dict | None = None,
              # dlt finds the cursor by its default (a fresh one per table: defined per call)
              incremental=dlt.sources.incremental("modification_date"),  # noqa: B008
              ) -> Iterator[list[FileItemDict]]:
        secrets = dict(credentials) if isinstance(credentials, Mapping) else {}
        try:
            client = fsspec_filesystem(bucket_url, credentials, kwargs=kwargs,
                                       client_kwargs=client_kwargs)[0]
            secrets = {**secrets, **client.storage_options}
            listed = [FileItemDict(item, client)
                      for item in glob_files(client, bucket_url, file_glob)]
        except Exception as exc:  # the cause is named in the message; its chain may hold keys
            raise BucketAccessError(source, bucket_url, f"list '{file_glob}'", exc,
                                    secrets) from None
        if listed:
            yield listed

    return files(bucket_url, file_glob=table.file_glob)


def parse_time(value: str, column: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (a time without zone is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Quarantine(f"{column} is not an ISO-8601 time: {value[:60]!r}") from None
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    if parsed > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise Quarantine(f"{column} is in the future: {value[:60]!r}")
    return parsed


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)  # nested JSON values stay JSON text in the raw layer


def validate(row: dict, table: ExportTable) -> dict:
    """The row with text values and UTC times, or :class:`Quarantine` with the reason."""
    clean = {key: _text(value) for key, value in row.items()}
    missing = [c for c in table.required if clean.get(c) is None]
    if missing:
        raise Quarantine(f"missing {', '.join(missing)}")
    # A JSON object, list or true/false in a key column would load as its JSON text.
    for column in table.required:
        if isinstance(row[column], dict | list | bool):
            raise Quarantine(f"{column} is not text or a number")
    try:
        check_text(clean)
    except Rejected as exc:
        raise Quarantine(str(exc)) from None
    for column, values in table.allowed:
        if clean.get(column) is not None and clean[column] not in values:
            raise Quarantine(f"{column} is not one of {', '.join(values)}: "
                             f"{clean[column][:60]!r}")
    for column in table.timestamps:
        if clean.get(column) is not None:
            clean[column] = parse_time(clean[column], column)
    return clean


def _records(name: str, data: bytes) -> Iterator[tuple[int, str, dict | str]]:
    """``(line, raw text, row or reason)`` for every record of one export file."""
    text = _decode(data)
    lines = io.StringIO(text, newline="").readlines()
    if name.endswith(".jsonl"):
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            yield number, line.rstrip("\r\n"), _json_record(line)
    elif name.endswith(".csv"):
        reader = csv.reader(iter(lines))
        header = next(reader, None)
        if header is None:
            return
        while True:
            start = reader.line_num
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                raw = "".join(lines[start:reader.line_num]).rstrip("\r\n")
                yield reader.line_num, raw, f"unreadable CSV: {exc}"
                continue
            raw = "".join(lines[start:reader.line_num]).rstrip("\r\n")
            if not any(v.strip() for v in values):
                continue
            if len(values) != len(header):
                yield start + 1, raw, f"expected {len(header)} fields, found {len(values)}"
            else:
                yield start + 1, raw, dict(zip(header, values, strict=True))
    else:
        yield 0, "", f"unsupported file type (expected one of {', '.join(SUPPORTED)})"


def _decode(data: bytes) -> str:
    # A UTF-16 export (BOM first, as spreadsheet tools save "Unicode text") is decoded as
    # such; anything else is read as UTF-8, and bytes that are not quarantine their row.
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    return data.decode("utf-8-sig", errors="surrogateescape")


def _json_record(line: str) -> dict | str:
    try:
        value = json.loads(line)
    except ValueError as exc:
        try:  # orjson refuses lone surrogate escapes; screening names that reason instead
            value = stdjson.loads(line)
        except ValueError:
            return f"invalid JSON: {str(exc)[:80]}"
    return value if isinstance(value, dict) else "not a JSON object"


def _is_utf8(raw: str) -> bool:
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes stand for bytes that were not UTF-8
        return False
    return True


def _arrow(rows: list[dict], table: ExportTable) -> pa.Table:
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    fields, arrays = [], []
    for column in columns:
        if column in table.timestamps:
            kind = pa.timestamp("us", tz="UTC")
        elif column in ("_source_line", "_source_order"):
            kind = pa.int64()
        else:
            kind = pa.string()
        # Key columns are declared not-null, as dlt declares them, so the schemas agree.
        fields.append(pa.field(column, kind, nullable=column not in table.required))
        arrays.append(pa.array([row.get(column) for row in rows], kind))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _quarantine_hints(table: ExportTable):
    return dlt.mark.make_hints(table_name=f"{table.name}_quarantine", write_disposition="merge",
                               primary_key=("source_file", "source_line"),
                               columns=QUARANTINE_COLUMNS)


def read_export(item: FileItemDict, table: ExportTable) -> Iterator[object]:
    """Arrow tables of the valid rows of one file, and its quarantined rows (marked)."""
    name = item["file_name"]
    modified = item.get("modification_date")
    # Orders rows across files of one night for dedup: newer file first, then later line.
    order_base = int(modified.timestamp()) * 10**9 if modified else 0
    with item.open(mode="rb") as fh:
        data = fh.read()
    good: list[dict] = []
    bad: list[dict] = []
    now = datetime.now(UTC)
    for line, raw, record in _records(name, data):
        reason = record if isinstance(record, str) else None
        if reason is None and not _is_utf8(raw):
            reason = "not valid UTF-8"
        if reason is None:
            try:
                row = validate(record, table)  # type: ignore[arg-type]
            except Quarantine as exc:
                reason = str(exc)
            else:
                row.update(_source_file=name, _source_line=line,
                           _source_order=order_base + line)
                good.append(row)
                if len(good) >= CHUNK_ROWS:
                    yield _arrow(good, table)
                    good = []
                continue
        # Undecodable bytes are kept visible as \xNN escapes in the quarantined text.
        shown = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        bad.append({"source_file": name, "source_line": line, "raw_row": shown,
                    "reason": reason, "quarantined_at": now, "_source_order": order_base + line})
    if good:
        yield _arrow(good, table)
    if bad:
        yield dlt.mark.with_hints(bad, _quarantine_hints(table), create_table_variant=True)


def export_resource(bucket_url: str | None, table: ExportTable, source: str):
    """The dlt resource of one export table: listed files piped into validated rows."""
    if not bucket_url:
        return unconfigured(source, "bucket_url", table.name, **table.hints())

    @dlt.transformer(name=table.name, **table.hints())
    def rows(items: list[FileItemDict]) -> Iterator[object]:
        for item in items:
            try:
                yield from read_export(item, table)
            except OSError as exc:  # reading the file failed, not one of its rows
                raise BucketAccessError(source, bucket_url, f"read '{item['file_name']}'", exc,
                                        item.fsspec.storage_options) from None

    return export_files(bucket_url, table, source) | rows


def unconfigured(source: str, setting: str, name: str, **hints):
    """A resource that explains the missing setting when run.

    Lets the source be built (its resources listed, e.g. as Dagster assets) before it is
    configured, without ever loading nothing in silence.
    """

    def rows() -> Iterator[dict]:
        require(None, source, setting)
        yield from ()

    return dlt.resource(rows, name=name, **hints)
