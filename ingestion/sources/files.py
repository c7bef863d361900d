"""Reading CSV and JSONL export files (local folder or bucket URL) through dlt's filesystem source.

Each export table declares its schema (:class:`ExportTable`): the columns that must hold a value
and the columns that must be ISO-8601 times. Rows that keep to it are yielded as Arrow tables
(the bulk path: dlt writes them as parquet, no per-row normaliser), times as UTC timestamps,
every other value as text, each row with the file and line it came from. Rows that break it go
to ``<table>_quarantine`` with file, line, the raw row text and the reason, so rows in the files
always equal rows loaded plus rows quarantined.

Files are read column-wise (:func:`read_columnar`): Arrow parses them and the schema is checked
a column at a time; only the rows a column check flags go through the per-row :func:`validate`,
so every reason is the per-row one. Files whose layout Arrow might read otherwise than Python's
csv module (irregular quoting, NUL bytes, lone CR line ends) are read row by row
(:func:`screen_export_per_row`, also the reference the tests hold the column-wise reader to).

Only files new or changed since the last successful load are read, found by name and content
rather than by modification time (which ``cp -p`` and ``rsync -t`` carry over from the old
file): each export table keeps a manifest of the files it loaded in its resource state (saved
with the load, so it moves only when the load lands). A local file's entry is its size and
SHA-256 (every file is read and hashed each night); a bucket object's is its size and ETag
(S3 and compatible stores), or where the listing has none the modification time the store
sets on upload (S3 ``LastModified``), as hashing would download every object every night.

Only regular files inside the configured folder are read. A symbolic link (to a file or a
folder, inside the folder or not), a path through one, a FIFO, socket or device is refused:
it is not opened and gets one quarantine row naming the file and the reason (line 0, no raw
text), and a warning in the log. A bucket that cannot be listed or read stops the source with
:class:`BucketAccessError`, which names the source and the bucket but never a credential.
"""

from __future__ import annotations

import codecs
import csv
import glob
import hashlib
import io
import json as stdjson
import logging
import os
import posixpath
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain
from urllib.parse import urlsplit, urlunsplit

import dlt
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from dlt.common import json
from dlt.common.storages.configuration import FilesystemConfiguration
from dlt.common.storages.fsspec_filesystem import fsspec_filesystem, glob_files
from dlt.sources import DltResource
from dlt.sources.filesystem import FileItemDict
from dlt.sources.filesystem.helpers import FilesystemConfigurationResource

from ingestion.sources.rest import require
from ingestion.sources.validation import FUTURE_TOLERANCE, MAX_TEXT_CHARS, Rejected, check_text

log = logging.getLogger(__name__)

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
    # set only on rows that delete the quarantine row of their key (a file fixed in place)
    "_deleted": {"data_type": "bool", "hard_delete": True},
}
# Quarantined lines noted per file in the manifest (so a fixed file's old rows can be deleted);
# a file breaking more lines than that keeps the rest of its old quarantine rows.
MANIFEST_LINES = 10_000


@dataclass(frozen=True)
class ExportTable:
    """One kind of export file and the schema its rows must keep."""

    name: str
    file_glob: str
    primary_key: tuple[str, ...]
    required: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Every column the export is documented to have (more may arrive and are kept): the raw
    # table is created with them on the first night even when no file has arrived yet, so
    # dbt staging and the quality checks find it.
    columns: tuple[str, ...] = ()

    def hints(self) -> dict:
        """dlt hints: merge on the key; of one key read twice in a night, the later row wins."""
        return {"primary_key": self.primary_key, "write_disposition": "merge",
                "file_format": "parquet", "columns": {"_source_order": {"dedup_sort": "desc"}}}

    def declared_columns(self) -> dict[str, dict]:
        """dlt column hints of the documented columns and the lineage columns, as the Arrow
        path types them (times UTC timestamps, everything else text)."""
        declared = {c: {"data_type": "timestamp" if c in self.timestamps else "text"}
                    for c in dict.fromkeys((*self.primary_key, *self.required, *self.columns))}
        return {**declared, "_source_file": {"data_type": "text"},
                "_source_line": {"data_type": "bigint"},
                "_source_order": {"data_type": "bigint", "dedup_sort": "desc"}}


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

    Yields lists of file items: each new or changed file (a local file with its bytes read
    already, as ``file_content``), each refused one (``refused``: the reason), and an empty
    list when nothing is new, so the table's reader still runs. The manifest of loaded files
    (``manifest`` in this resource's state: relative path -> fingerprint) is replaced by
    tonight's listing; it is saved only with the load.

    Credentials and the endpoint are dlt's filesystem credentials of the source, typed by the
    bucket's protocol: ``[sources.<source>.credentials]`` (e.g.
    ``SOURCES__INBOX__CREDENTIALS__ENDPOINT_URL``); for ``s3://`` without a key pair, AWS's
    default chain (environment, profile, instance role). Read when the files are listed.
    """

    # Named per table: each export table keeps its own manifest in the source state.
    @dlt.resource(name=f"{table.name}_files", spec=FilesystemConfigurationResource)
    def files(bucket_url: str = dlt.config.value, credentials=dlt.secrets.value,
              file_glob: str = "*", kwargs: dict | None = None, client_kwargs: dict | None = None,
              ) -> Iterator[list[FileItemDict]]:
        secrets = dict(credentials) if isinstance(credentials, Mapping) else {}
        try:
            client = fsspec_filesystem(bucket_url, credentials, kwargs=kwargs,
                                       client_kwargs=client_kwargs)[0]
            secrets = {**secrets, **client.storage_options}
            root = _local_root(client, bucket_url)
            refused = _refused_local(root, file_glob) if root is not None else {}
            listed = [FileItemDict(item, client)
                      for item in glob_files(client, bucket_url, file_glob)]
            etags = _etags(client, bucket_url, file_glob) if root is None else {}
        except Exception as exc:  # the cause is named in the message; its chain may hold keys
            raise BucketAccessError(source, bucket_url, f"list '{file_glob}'", exc,
                                    secrets) from None
        state = dlt.current.resource_state()
        loaded: dict[str, dict] = state.get("manifest", {})
        manifest: dict[str, dict] = {}
        found = False
        def refusal(relative: str, reason: str) -> list[dict]:
            log.warning(f"source '{source}': refused '{relative}' in {_shown(bucket_url)}: "
                        f"{reason}")
            return [{"file_name": relative, "relative_path": relative, "refused": reason}]

        for relative, reason in sorted(refused.items()):
            yield refusal(relative, reason)
        for item in listed:
            relative = item["relative_path"]
            if relative in refused:
                continue
            if root is not None:
                try:
                    item["file_content"] = read_regular_file(root, relative)
                except _Refused as why:  # changed into a link since the listing
                    yield refusal(relative, str(why))
                    continue
                except OSError as exc:
                    raise BucketAccessError(source, bucket_url, f"read '{relative}'", exc,
                                            secrets) from None
            before = loaded.get(relative) or {}
            manifest[relative] = _fingerprint(item, etags)
            if _content(before) == manifest[relative]:
                manifest[relative] = before  # unchanged: keeps its quarantined lines
            else:
                # read_export records the lines it quarantines in this entry and removes
                # the earlier version's quarantine rows it does not quarantine again
                item["manifest_entry"] = manifest[relative]
                item["earlier_quarantine"] = before.get("quarantined", [])
                found = True
                yield [item]
        state["manifest"] = manifest
        state.pop("incremental", None)  # the modification_date cursor of earlier versions
        if not found:  # no new file still reaches the table's reader, which creates the table
            yield []

    return files(bucket_url, file_glob=table.file_glob)


ONLY_REGULAR = "only regular files inside the folder are read"
NOT_REGULAR = "not read: not a regular file (FIFO, socket or device)"


class _Refused(Exception):
    """A listed path that is not a regular file inside the folder; the message is why."""


def _local_root(client, bucket_url: str) -> str | None:
    """The folder of a local ``bucket_url`` (``file://`` or a plain path), else None."""
    if "file" not in client.protocol:
        return None
    url = (FilesystemConfiguration.make_file_url(bucket_url)
           if FilesystemConfiguration.is_local_path(bucket_url) else bucket_url)
    return FilesystemConfiguration.make_local_path(url)


def _refused_local(root: str, file_glob: str) -> dict[str, str]:
    """Relative path -> reason of every path the glob matches under ``root`` that is not a
    regular file reached without a symbolic link (folders are not files and are skipped)."""
    refused = {}
    for path in glob.glob(os.path.join(root, file_glob), recursive=True):
        relative = os.path.relpath(path, root)
        try:
            reason = _refusal(root, relative)
        except OSError:  # gone since the glob: not listed either
            continue
        if reason:
            refused[relative.replace(os.sep, "/")] = reason
    return refused


def _refusal(root: str, relative: str) -> str | None:
    parts = relative.split(os.sep)
    at = root
    for depth, part in enumerate(parts, start=1):
        at = os.path.join(at, part)
        mode = os.lstat(at).st_mode
        if stat.S_ISLNK(mode):
            # the target is never named: it may lie anywhere, and only the folder is read
            where = "a symbolic link" if depth == len(parts) else \
                f"inside '{'/'.join(parts[:depth])}', a symbolic link"
            return f"not read: {where}; {ONLY_REGULAR}"
    if stat.S_ISDIR(mode):
        return None
    if not stat.S_ISREG(mode):
        return NOT_REGULAR
    return None


def read_regular_file(root: str, relative: str) -> bytes:
    """The bytes of the regular file ``relative`` under ``root``; :class:`_Refused` if it is a
    symbolic link (``O_NOFOLLOW``), not a regular file, or resolves outside ``root`` once open
    (a folder on its path swapped for a link since the listing)."""
    path = os.path.join(root, relative)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        if os.path.islink(path):
            raise _Refused(f"not read: a symbolic link; {ONLY_REGULAR}") from None
        raise exc
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _Refused(NOT_REGULAR)
        opened = f"/proc/self/fd/{fd}"
        if os.path.exists(opened):  # Linux: where the open file really is
            real = os.path.realpath(opened)
            if os.path.commonpath([real, os.path.realpath(root)]) != os.path.realpath(root):
                raise _Refused("not read: resolves outside the folder")
        return fh.read()


def _content(entry: Mapping) -> dict:
    """A manifest entry's fingerprint, without what read_export noted about the file."""
    return {key: value for key, value in entry.items() if key != "quarantined"}


def _etags(client, bucket_url: str, file_glob: str) -> dict[str, str]:
    """The ETag of each object the glob matches, by its path in the store, where the listing
    gives one (S3 and compatible stores: an MD5 of the content for simple uploads). One more
    listing request per 1,000 objects; dlt's listing drops the field."""
    found = client.glob(posixpath.join(client._strip_protocol(bucket_url), file_glob),  # noqa: SLF001
                        detail=True)
    return {path: str(md.get("ETag") or md.get("etag")) for path, md in found.items()
            if md.get("ETag") or md.get("etag")}


def _fingerprint(item: FileItemDict, etags: Mapping[str, str]) -> dict:
    """What identifies a file's content: size and SHA-256 of a local file's bytes; size and
    ETag of a bucket object, or its size and the modification time the store sets on every
    upload where the listing has no ETag."""
    content = item.get("file_content")
    if content is not None:
        return {"size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    etag = etags.get(item.fsspec._strip_protocol(item["file_url"]))  # noqa: SLF001
    if etag:
        return {"size": item.get("size_in_bytes"), "etag": etag}
    modified = item.get("modification_date")
    return {"size": item.get("size_in_bytes"),
            "modified": modified.isoformat() if modified else None}


def parse_time(value: str, column: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime (a time without zone is taken as UTC)."""
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 1 or 9999 shifted out of range
        raise Quarantine(f"{column} is not an ISO-8601 time: {value[:60]!r}") from None
    if parsed > datetime.now(UTC) + FUTURE_TOLERANCE:
        raise Quarantine(f"{column} is in the future: {value[:60]!r}")
    return parsed


def _text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)  # nested JSON values stay JSON text in the raw layer
    except TypeError:  # orjson refuses lone surrogates (check_text then names them) and big ints
        return stdjson.dumps(value, ensure_ascii=False)


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


# --- the per-row reader: the reference the column-wise reader below must agree with ---------

Record = tuple[int, str, "dict | str | None"]  # (line, raw text, row | reason | None if blank)


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
            record = _csv_row(header, values)
            if record is not None:
                yield start + 1, raw, record
    else:
        yield 0, "", f"unsupported file type (expected one of {', '.join(SUPPORTED)})"


def _csv_row(header: list[str], values: list[str]) -> dict | str | None:
    """One CSV record as a row, or why it is not one; None for a blank record (skipped)."""
    if not any(v.strip() for v in values):
        return None
    if len(values) != len(header):
        return f"expected {len(header)} fields, found {len(values)}"
    return dict(zip(header, values, strict=True))


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


def _kind(column: str, table: ExportTable) -> pa.DataType:
    if column in table.timestamps:
        return pa.timestamp("us", tz="UTC")
    if column in ("_source_line", "_source_order"):
        return pa.int64()
    return pa.string()


def _schema(columns: Iterable[str], table: ExportTable) -> pa.Schema:
    # Key columns are declared not-null, as dlt declares them, so the schemas agree.
    return pa.schema([pa.field(c, _kind(c, table), nullable=c not in table.required)
                      for c in columns])


def _arrow(rows: list[dict], table: ExportTable, columns: Iterable[str] | None = None
           ) -> pa.Table:
    if columns is None:
        columns = _key_order(rows)
    schema = _schema(columns, table)
    return pa.Table.from_arrays([pa.array([row.get(f.name) for row in rows], f.type)
                                 for f in schema], schema=schema)


def _key_order(rows: Iterable[Iterable[str]]) -> list[str]:
    """Column names in order of first appearance across rows (each an iterable of names)."""
    return list(dict.fromkeys(chain.from_iterable(dict.fromkeys(map(tuple, rows)))))


def _screen_record(name: str, record: Record, table: ExportTable, order_base: int,
                   now: datetime) -> tuple[dict | None, dict | None]:
    """``(row, None)`` for a record that loads, ``(None, quarantine row)`` for one that does
    not; ``(None, None)`` for a blank one."""
    line, raw, content = record
    if content is None:
        return None, None
    reason = content if isinstance(content, str) else None
    if reason is None and not _is_utf8(raw):
        reason = "not valid UTF-8"
    if reason is None:
        try:
            row = validate(content, table)  # type: ignore[arg-type]
        except Quarantine as exc:
            reason = str(exc)
        else:
            row.update(_source_file=name, _source_line=line, _source_order=order_base + line)
            return row, None
    # Undecodable bytes are kept visible as \xNN escapes in the quarantined text.
    shown = raw.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return None, {"source_file": name, "source_line": line, "raw_row": shown, "reason": reason,
                  "quarantined_at": now, "_source_order": order_base + line}


def screen_export_per_row(name: str, data: bytes, table: ExportTable, order_base: int = 0,
                          now: datetime | None = None) -> Iterator[pa.Table | list[dict]]:
    """One export file screened row by row: Arrow tables of its valid rows (at most
    :data:`CHUNK_ROWS` each), then the list of its quarantine rows if any.

    The reference :func:`screen_export` keeps to, and its fallback for files it cannot read
    column-wise. ``order_base`` orders this file's rows against other files' (see
    :func:`read_export`).
    """
    now = now or datetime.now(UTC)
    good: list[dict] = []
    bad: list[dict] = []
    for record in _records(name, data):
        row, rejected = _screen_record(name, record, table, order_base, now)
        if rejected is not None:
            bad.append(rejected)
            continue
        good.append(row)  # type: ignore[arg-type]
        if len(good) >= CHUNK_ROWS:
            yield _arrow(good, table)
            good = []
    if good:
        yield _arrow(good, table)
    if bad:
        yield bad


# --- the column-wise reader ------------------------------------------------------------------
#
# Parsing and screening a row in Python costs ~20 us; a night's exports hold millions. So the
# rows are parsed by Arrow and screened a column at a time (pyarrow.compute and numpy over the
# Arrow buffers). Every check there is conservative: a row passing all of them surely passes
# validate() with the same values; a row failing one is handed to the per-row screen above, so
# its reason (or its normalised values, for forms only Python reads) are exactly the per-row
# ones. A file whose layout Arrow might read differently from Python's csv module (irregular
# quoting, NUL bytes, lone CR line ends, a field over csv's size limit, a blank or duplicated
# header) is read by the per-row reader instead.

_QUOTE, _COMMA, _LF, _CR = (ord(c) for c in '",\n\r')
# Bytes before an opening quote (field start) and after a closing one (field end).
_OPENS = np.isin(np.arange(256), list(b',\n"'))
_CLOSES = np.isin(np.arange(256), list(b',\r\n"'))
# A first byte that may begin a whitespace-only value (str.strip: ASCII or any non-ASCII).
_BLANK_START = np.isin(np.arange(256), [*range(9, 14), *range(28, 33), *range(128, 256)])
# Arrow string columns hold up to 2 GiB; a larger export is read row by row (slowly).
_COLUMNAR_BYTES = 1 << 30
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


@dataclass
class _Columns:
    """The records of one export file read column-wise, before screening.

    Candidate rows are the records whose values sit in ``columns``; ``record(i)`` gives
    candidate ``i`` as the per-row reader sees it, and ``others`` the records that are no
    candidate (wrong field count, undecodable bytes, not a JSON object...)."""

    columns: dict[str, pa.Array]        # text of every candidate row; "" and absent as null
    lines: np.ndarray                   # line of each candidate row
    flagged: np.ndarray                 # candidates only the per-row screen can decide
    record: Callable[[int], Record]
    others: list[Record]
    shapes: list[tuple[str, ...]] | None = None  # JSONL: the keys of each candidate row


def read_columnar(name: str, data: bytes, table: ExportTable, order_base: int = 0,
                  now: datetime | None = None) -> list[pa.Table | list[dict]] | None:
    """What :func:`screen_export_per_row` yields for the file, computed column-wise; None
    when the file's layout needs the per-row reader."""
    now = now or datetime.now(UTC)
    try:
        if name.endswith(".csv"):
            columns = _csv_columns(data)
        elif name.endswith(".jsonl"):
            columns = _jsonl_columns(data)
        else:
            return None
        if columns is None:
            return None
        return _screen_columns(columns, name, table, order_base, now)
    except csv.Error:  # a record Python's csv module reads otherwise than the layout said
        return None


def screen_export(name: str, data: bytes, table: ExportTable, order_base: int = 0,
                  now: datetime | None = None) -> Iterator[pa.Table | list[dict]]:
    """One export file screened: Arrow tables of its valid rows (at most :data:`CHUNK_ROWS`
    each), then the list of its quarantine rows if any; column-wise where the file allows,
    else row by row, with the same outcome either way."""
    now = now or datetime.now(UTC)
    parts = read_columnar(name, data, table, order_base, now)
    if parts is None:
        return screen_export_per_row(name, data, table, order_base, now)
    return iter(parts)


def _csv_columns(data: bytes) -> _Columns | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    elif data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8):]
    if not data:  # no header, no records
        return _Columns(columns={}, lines=np.zeros(0, np.int64), flagged=np.zeros(0, bool),
                        record=lambda i: (0, "", None), others=[])
    if b"\0" in data or len(data) > _COLUMNAR_BYTES:
        return None
    buf = np.frombuffer(data, np.uint8)
    returns = np.flatnonzero(buf == _CR)
    if len(returns) and (returns[-1] == len(buf) - 1 or np.any(buf[returns + 1] != _LF)):
        return None  # a lone CR ends a line for Python but is not looked for here
    quotes = np.flatnonzero(buf == _QUOTE)
    if not _regular_quotes(buf, quotes):
        return None
    # Records end at the newlines outside quotes (an even number of quotes before them).
    newlines = np.flatnonzero(buf == _LF)
    outside = (np.searchsorted(quotes, newlines) & 1) == 0
    ending = np.flatnonzero(outside)   # line index of each record's last line
    ends = newlines[ending] + 1
    first_line = np.concatenate(([0], ending + 1))
    if len(ends) and ends[-1] == len(data):
        first_line = first_line[:-1]
    else:
        ends = np.append(ends, len(data))  # a last record without a newline
    starts = np.concatenate(([0], ends[:-1]))
    if int((ends - starts).max()) > csv.field_size_limit():
        return None  # csv.Error in the per-row reader, which then resumes mid-record
    try:
        header = next(csv.reader(io.StringIO(data[:ends[0]].decode(), newline="")), [])
    except UnicodeDecodeError:
        return None
    if (not header or len(set(header)) < len(header) or set(header) & set(LINEAGE)
            or max(map(len, header)) > MAX_TEXT_CHARS):
        return None
    starts, ends, first_line = starts[1:], ends[1:], first_line[1:]
    newline_bytes = (buf[ends - 1] == _LF).astype(np.int64)
    newline_bytes += (newline_bytes == 1) & (buf[ends - 2] == _CR)
    filled = ends - starts > newline_bytes
    broken = _undecodable(data, buf, starts, ends)
    candidate = filled & ~broken
    parsed, skipped = _arrow_csv(data, starts[broken], ends[broken], int(starts[0]), header,
                                 multiline=not outside.all()) if candidate.any() else (
        {name: pa.array([], pa.string()) for name in header}, 0)
    if skipped:  # which records Arrow skipped: those with another number of fields
        commas = np.flatnonzero(buf == _COMMA)
        commas = commas[(np.searchsorted(quotes, commas) & 1) == 0]
        fields = np.diff(np.searchsorted(commas, np.append(starts, ends[-1:]))) + 1
        candidate &= fields == len(header)
    rows = np.flatnonzero(candidate)
    if len(rows) != len(parsed[header[0]]) or skipped != int((filled & ~broken).sum()) - len(rows):
        return None  # Arrow saw other records than the layout above

    def record(index: int) -> Record:
        text = data[starts[index]:ends[index]].decode("utf-8", "surrogateescape")
        values = next(csv.reader(io.StringIO(text, newline="")))
        return int(first_line[index]) + 1, text.rstrip("\r\n"), _csv_row(header, values)

    others = [record(i) for i in np.flatnonzero(filled & ~candidate)]
    return _Columns(columns=parsed, lines=first_line[rows] + 1,
                    flagged=_maybe_blank(parsed, len(rows)),
                    record=lambda i: record(rows[i]), others=others)


def _regular_quotes(buf: np.ndarray, quotes: np.ndarray) -> bool:
    """Whether every quote opens a field, closes one or is doubled inside one, so that the
    n-th quote opens (even n) or closes (odd n) and Arrow and Python's csv agree."""
    if len(quotes) % 2:
        return False
    if not len(quotes):
        return True
    opening, closing = quotes[0::2], quotes[1::2]
    before = buf[np.maximum(opening - 1, 0)]
    after = buf[np.minimum(closing + 1, len(buf) - 1)]
    return bool(np.all(_OPENS[before] | (opening == 0))
                and np.all(_CLOSES[after] | (closing == len(buf) - 1)))


def _undecodable(data: bytes, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray
                 ) -> np.ndarray:
    """Which records (of those from ``starts`` to ``ends``) hold bytes that are not UTF-8."""
    broken = np.zeros(len(starts), bool)
    try:
        data.decode()
    except UnicodeDecodeError:
        # Only records with non-ASCII bytes can hold such bytes: test those one by one.
        suspects = np.unique(np.searchsorted(ends, np.flatnonzero(buf >= 0x80), side="right"))
        for index in suspects[suspects < len(starts)]:
            try:
                data[starts[index]:ends[index]].decode()
            except UnicodeDecodeError:
                broken[index] = True
    return broken


def _arrow_csv(data: bytes, blank_starts: np.ndarray, blank_ends: np.ndarray, start: int,
               header: list[str], multiline: bool) -> tuple[dict[str, pa.Array], int]:
    """The header's columns of the records from byte ``start`` on as Arrow reads them (the
    records between ``blank_starts`` and ``blank_ends`` blanked out), and how many records
    Arrow skipped for their number of fields."""
    body = pa.py_buffer(data).slice(start)
    if len(blank_starts):
        pieces, position = [], start
        for begin, end in zip(blank_starts.tolist(), blank_ends.tolist(), strict=True):
            pieces += [data[position:begin], b"\n"]  # an empty line: Arrow skips it
            position = end
        body = pa.py_buffer(b"".join([*pieces, data[position:]]))
    skipped: list[object] = []  # appended to by Arrow's threads (list.append is atomic)

    def skip(row: object) -> str:
        skipped.append(row)
        return "skip"

    names = [f"f{i}" for i in range(len(header))]
    parsed = pacsv.read_csv(
        body,
        read_options=pacsv.ReadOptions(column_names=names, use_threads=True,
                                       block_size=max(body.size + 1, 1 << 20)),
        parse_options=pacsv.ParseOptions(newlines_in_values=multiline,
                                         invalid_row_handler=skip),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), null_values=[""],
            strings_can_be_null=True, quoted_strings_can_be_null=True))
    return ({name: parsed.column(i).combine_chunks() for i, name in enumerate(header)},
            len(skipped))


def _maybe_blank(columns: dict[str, pa.Array], rows: int) -> np.ndarray:
    """Rows that may be blank (every value empty or whitespace): the per-row reader skips
    those, so they are left to it."""
    maybe = np.ones(rows, bool)
    for values in columns.values():
        offsets, data = _buffers(values)
        lengths = np.diff(offsets)
        first = np.zeros(rows, np.uint8)
        filled = lengths > 0
        first[filled] = data[offsets[:-1][filled]]
        maybe &= ~filled | _BLANK_START[first]
        if not maybe.any():
            break
    return maybe


def _buffers(values: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and bytes of a string array, as numpy views."""
    _, offsets, data = values.buffers()
    offsets = np.frombuffer(offsets, np.int32, count=len(values) + 1, offset=values.offset * 4)
    return offsets, (np.frombuffer(data, np.uint8) if data is not None
                     else np.zeros(0, np.uint8))


def _jsonl_columns(data: bytes) -> _Columns:
    lines = io.StringIO(_decode(data), newline="").readlines()
    numbers = [number for number, line in enumerate(lines, start=1) if line.strip()]
    texts = [lines[number - 1] for number in numbers]
    try:
        rows = list(map(json.loads, texts))
    except ValueError:  # a broken line (or lone surrogates): parse line by line
        rows = [_json_or_none(text) for text in texts]
    others: list[Record] = []
    if rows and set(map(type, rows)) != {dict}:
        # Broken JSON, not an object, lone surrogates, undecodable bytes: row by row.
        objects = [type(row) is dict for row in rows]
        others = [(number, text.rstrip("\r\n"), _json_record(text))
                  for number, text, good in zip(numbers, texts, objects, strict=True)
                  if not good]
        numbers = [number for number, good in zip(numbers, objects, strict=True) if good]
        rows = [row for row, good in zip(rows, objects, strict=True) if good]
    shapes = list(map(tuple, rows))
    flagged = np.zeros(len(rows), bool)
    kinds = dict.fromkeys(shapes)
    names = list(dict.fromkeys(chain.from_iterable(kinds)))
    by_name = {name: [row.get(name) for row in rows] for name in names}
    odd = {n for n in names if n in LINEAGE or len(n) > MAX_TEXT_CHARS}
    if odd:
        flagged |= [not odd.isdisjoint(row) for row in rows]
    columns = {}
    for name, values in by_name.items():
        try:
            array = pa.array(values, pa.string())
        except (pa.ArrowTypeError, pa.ArrowInvalid):
            # Integers load as their digits; booleans, floats, lists and objects are left to
            # the per-row screen (their JSON text, or a key column's reason).
            for i, value in enumerate(values):
                if value is not None and type(value) is not str:
                    if type(value) is int:
                        values[i] = str(value)
                    else:
                        values[i] = None
                        flagged[i] = True
            array = pa.array(values, pa.string())
        columns[name] = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return _Columns(columns=columns, lines=np.array(numbers, np.int64), flagged=flagged,
                    record=lambda i: (numbers[i], lines[numbers[i] - 1].rstrip("\r\n"),
                                      rows[i]),
                    others=others, shapes=shapes)


def _json_or_none(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _screen_columns(found: _Columns, name: str, table: ExportTable, order_base: int,
                    now: datetime) -> list[pa.Table | list[dict]]:
    rows = len(found.lines)
    flagged = found.flagged.copy()
    columns = dict(found.columns)
    for column in table.required:
        if column in columns:
            flagged |= columns[column].is_null().to_numpy(zero_copy_only=False)
        else:
            flagged[:] = True
    for column, allowed in table.allowed:
        if column in columns:
            values = columns[column]
            known = pc.or_kleene(pc.is_in(values, value_set=pa.array(allowed, pa.string())),
                                 values.is_null())
            flagged |= ~known.to_numpy(zero_copy_only=False)
    for values in columns.values():
        offsets, _ = _buffers(values)
        if rows and int(np.diff(offsets).max()) > MAX_TEXT_CHARS:  # bytes >= characters
            flagged |= (pc.utf8_length(values).fill_null(0).to_numpy(zero_copy_only=False)
                        > MAX_TEXT_CHARS)
    # The clock parse_time reads (``now`` only stamps the quarantine rows).
    latest = (datetime.now(UTC) + FUTURE_TOLERANCE - datetime(1970, 1, 1, tzinfo=UTC)
              ) // _MICROSECOND
    for column in table.timestamps:
        if column in columns:
            columns[column], unread = _iso_times(columns[column], latest)
            flagged |= unread

    # The rows a check flagged, and the records that are no candidate, screened one by one.
    good: list[dict] = []
    bad: list[dict] = []
    for record in chain((found.record(i) for i in np.flatnonzero(flagged)), found.others):
        row, rejected = _screen_record(name, record, table, order_base, now)
        if row is not None:
            good.append(row)
        elif rejected is not None:
            bad.append(rejected)

    keep = ~flagged
    lines = found.lines[keep]
    kept = int(keep.sum())
    mask = None if kept == rows else pa.array(keep)
    arrays = {c: v if mask is None else v.filter(mask) for c, v in columns.items()}
    arrays.update(_source_file=pa.repeat(pa.scalar(name, pa.string()), kept),
                  _source_line=pa.array(lines, pa.int64()),
                  _source_order=pa.array(lines + order_base, pa.int64()))
    # A row only Python reads (e.g. JSON with NaN) may bring a column no candidate has.
    schema = _schema(dict.fromkeys(chain(arrays, _key_order(good))), table)
    merged = pa.Table.from_arrays([arrays[f.name] if f.name in arrays else pa.nulls(kept, f.type)
                                   for f in schema], schema=schema)
    shapes = None
    if found.shapes is not None:
        shapes = [found.shapes[i] for i in np.flatnonzero(keep).tolist()]
        shapes += map(tuple, good)
    if good:
        merged = pa.concat_tables([merged, _arrow(good, table, schema.names)])
        order = pc.sort_indices(merged["_source_line"])
        merged = merged.take(order)
        if shapes is not None:
            shapes = [shapes[i] for i in order.to_numpy().tolist()]
    parts: list[pa.Table | list[dict]] = []
    for start in range(0, merged.num_rows, CHUNK_ROWS):
        chunk = merged.slice(start, CHUNK_ROWS)
        if shapes is not None:  # JSONL: a chunk has the columns its rows have, as row by row
            chunk = chunk.select(_key_order(chain(shape, LINEAGE) for shape in
                                            dict.fromkeys(shapes[start:start + CHUNK_ROWS])))
        parts.append(chunk)
    if bad:
        parts.append(sorted(bad, key=lambda row: row["source_line"]))
    return parts


_MICROSECOND = timedelta(microseconds=1)


def _iso_times(values: pa.Array, latest: int) -> tuple[pa.Array, np.ndarray]:
    """ISO-8601 texts (``YYYY-MM-DD[T ]HH:MM:SS[.f{1,6}][Z|+HH:MM]``, no zone read as UTC) as
    UTC timestamps, and which non-null values are not of that form, not a real time or later
    than ``latest`` (microseconds since 1970): those are left to the per-row screen."""
    rows = len(values)
    offsets, data = _buffers(values)
    lengths = np.diff(offsets)
    valid = values.is_valid().to_numpy(zero_copy_only=False)
    at = np.flatnonzero(valid & (lengths >= 19) & (lengths <= 32))
    read = np.zeros(rows, bool)
    micros = np.zeros(rows, np.int64)
    if len(at):
        read[at], micros[at] = _read_times(_char_rows(offsets[at], lengths[at], data),
                                           lengths[at], latest)
    return pa.array(micros, pa.timestamp("us", tz="UTC"), mask=~read), valid & ~read


def _char_rows(starts: np.ndarray, sizes: np.ndarray, data: np.ndarray) -> np.ndarray:
    """The bytes of each value as one row of a matrix as wide as the longest value."""
    width = int(sizes.max())
    first = int(starts[0])
    if int(sizes.min()) == width and first + width * len(starts) <= len(data) and np.array_equal(
            starts - first, np.arange(len(starts)) * width):  # one format: a plain reshape
        return data[first:first + width * len(starts)].reshape(len(starts), width)
    return data[np.minimum(starts[:, None] + np.arange(width), len(data) - 1)]


_DIGITS = [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
_SEPARATORS = [4, 7, 13, 16]
_SEPARATOR_CHARS = np.frombuffer(b"--::", np.uint8)
_ZERO = np.uint8(ord("0"))


def _read_times(chars: np.ndarray, sizes: np.ndarray, latest: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """Which rows of ``chars`` (one ISO-8601 text each, ``sizes`` long) hold a time Python
    reads the same way, and that time in microseconds since 1970 UTC."""
    digits = chars[:, _DIGITS] - _ZERO  # bytes below "0" wrap round to large values
    ok = (digits < 10).all(axis=1)
    ok &= (chars[:, _SEPARATORS] == _SEPARATOR_CHARS).all(axis=1)
    ok &= (chars[:, 10] == ord("T")) | (chars[:, 10] == ord(" "))
    pairs = digits[:, 0::2].astype(np.int64) * 10 + digits[:, 1::2]
    year = pairs[:, 0] * 100 + pairs[:, 1]
    month, day, hour, minute, second = pairs[:, 2:].T
    fraction = np.zeros(len(chars), np.int64)
    shift = np.zeros(len(chars), np.int64)  # seconds east of UTC
    for size in np.unique(sizes[sizes > 19]):  # a fraction and/or a zone after the seconds
        at = np.flatnonzero(sizes == size)
        tail = chars[at, :size]
        zulu = tail[:, size - 1] == ord("Z")
        zoned = np.zeros(len(at), bool)
        if size >= 25:
            zone = tail[:, [size - 5, size - 4, size - 2, size - 1]] - _ZERO
            sign = tail[:, size - 6]
            zoned = (((sign == ord("+")) | (sign == ord("-"))) & (tail[:, size - 3] == ord(":"))
                     & (zone < 10).all(axis=1))
            hours = zone[:, 0].astype(np.int64) * 10 + zone[:, 1]
            minutes = zone[:, 2].astype(np.int64) * 10 + zone[:, 3]
            ok[at] &= ~zoned | ((hours <= 23) & (minutes <= 59))
            shift[at] = np.where(zoned, np.where(sign == ord("-"), -60, 60)
                                 * (hours * 60 + minutes), 0)
        dotted = size - 19 - np.where(zulu, 1, np.where(zoned, 6, 0))  # "." and the digits
        fine = (dotted == 0) | ((dotted >= 2) & (dotted <= 7) & (tail[:, 19] == ord(".")))
        for place in range(1, 7):
            if 19 + place < size:
                present = place < dotted
                digit = (tail[:, 19 + place] - _ZERO).astype(np.int64)
                fine &= ~present | (digit < 10)
                fraction[at] += np.where(present, digit, 0) * 10 ** (6 - place)
        ok[at] &= fine
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_days = _DAYS_IN_MONTH[np.clip(month, 1, 12) - 1] + ((month == 2) & leap)
    # Years 1 and 9999 are left out: shifted to UTC they may leave Python's range.
    ok &= ((year >= 2) & (year <= 9998) & (month >= 1) & (month <= 12) & (day >= 1)
           & (day <= month_days) & (hour <= 23) & (minute <= 59) & (second <= 59))
    # Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil).
    shifted = year - (month <= 2)
    era = shifted // 400
    of_era = shifted - era * 400
    of_year = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    days = era * 146097 + of_era * 365 + of_era // 4 - of_era // 100 + of_year - 719468
    moment = (((days * 24 + hour) * 60 + minute) * 60 + second - shift) * 1_000_000 + fraction
    ok &= moment <= latest
    return ok, np.where(ok, moment, 0)


def _quarantine_hints(table: ExportTable):
    return dlt.mark.make_hints(table_name=f"{table.name}_quarantine", write_disposition="merge",
                               primary_key=("source_file", "source_line"),
                               columns=QUARANTINE_COLUMNS)


def read_export(item: FileItemDict, table: ExportTable) -> Iterator[object]:
    """Arrow tables of the valid rows of one file, and its quarantined rows (marked)."""
    name = item["file_name"]
    if "refused" in item:
        yield dlt.mark.with_hints([{
            "source_file": name, "source_line": 0, "raw_row": "", "reason": item["refused"],
            "quarantined_at": datetime.now(UTC), "_source_order": 0}],
            _quarantine_hints(table), create_table_variant=True)
        return
    modified = item.get("modification_date")
    # Orders rows across files of one night for dedup: newer file first, then later line.
    order_base = int(modified.timestamp()) * 10**9 if modified else 0
    data = item.get("file_content")
    if data is None:  # a bucket object: read now
        with item.open(mode="rb") as fh:
            data = fh.read()
    quarantined: list[int] = []
    for part in screen_export(name, data, table, order_base):
        if isinstance(part, list):
            quarantined += (row["source_line"] for row in part)
            yield dlt.mark.with_hints(part, _quarantine_hints(table), create_table_variant=True)
        else:
            yield part
    # A file read again (changed in place): the quarantine rows of lines its earlier version
    # broke and this one does not are deleted (dlt hard delete on the merge key), so its rows
    # in = rows loaded + rows quarantined still holds. Up to MANIFEST_LINES lines are noted.
    gone = sorted(set(item.get("earlier_quarantine", ())) - set(quarantined))
    if gone:
        yield dlt.mark.with_hints([{"source_file": name, "source_line": line, "_deleted": True}
                                   for line in gone],
                                  _quarantine_hints(table), create_table_variant=True)
    if "manifest_entry" in item:
        item["manifest_entry"]["quarantined"] = sorted(quarantined)[:MANIFEST_LINES]


def export_resource(bucket_url: str | None, table: ExportTable, source: str):
    """The dlt resource of one export table: listed files piped into validated rows."""
    if not bucket_url:
        # declared as the configured table is, so that schema_only() creates it the same way
        return unconfigured(source, "bucket_url", table.name,
                            **{**table.hints(), "columns": table.declared_columns()})

    @dlt.transformer(name=table.name, **table.hints())
    def rows(items: list[FileItemDict]) -> Iterator[object]:
        if not items:  # nothing new: the table exists all the same (see ExportTable.columns)
            yield dlt.mark.with_hints(dlt.mark.materialize_table_schema(),
                                      dlt.mark.make_hints(columns=table.declared_columns()))
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
