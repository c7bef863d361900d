"""Deleted content leaves the raw tables too (docs/sources.md, "Deleted items").

dbt removes what a tombstone deletes from int_messages, fct_interactions and every mart; the
raw tables (and dlt's staging copies of the last load) still hold the item as loaded.
:func:`purge_deleted` overwrites the content of those rows: the text (and the mentions, tags,
media and emojis that are part of it) of every version of a deleted message in every raw
table that holds it, of the Mastodon notifications, reblogs and conversations that embed a
deleted status, and of every message of a deleted Messenger thread; quarantine rows holding a
deleted item are deleted (a tombstone's own quarantine row stays: it keeps only ids and
deletion markers, and int_tombstones reads it).

The rows themselves stay, reduced to ids, authors and times: threading and the tombstone
models find what a deletion removes through them (a reply's counterpart is its deleted
parent's author, a favourite names its deleted status), so a later night or a full rebuild
gives the same warehouse as the night the deletion arrived. The content is gone for good: a
backfill re-reads from the platform, which no longer serves it. Idempotent: a night that
finds nothing left to overwrite changes nothing.

Overwritten and deleted rows leave their old bytes in freed blocks of the DuckDB file, which
DuckDB reuses but never clears (``CHECKPOINT`` does not reliably give them back either).
:func:`compact_warehouse` rewrites the file (``COPY FROM DATABASE`` into a fresh file, then an
atomic rename), so no byte of the purged content is left on disk; the nightly purge asset runs
it when the purge changed anything.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from ingestion.pipelines import dataset_name
from ingestion.settings import PLATFORMS
from ingestion.sources.validation import TOMBSTONE
from ingestion.sql import sql_string

TOMBSTONES = "intermediate.int_tombstones"
# What the text columns of a purged row hold (non-blank, so the raw quality checks still pass
# on rows that are nothing but ids now); list columns become an empty JSON list.
PURGED_TEXT = "[deleted on the platform]"
PURGED_LIST = "[]"
# Content columns (after their object's prefix, e.g. ``status__`` for a notification's status)
TEXT_COLUMNS = ("text", "message", "caption", "content", "content_text", "spoiler_text")
LIST_COLUMNS = ("mentions", "tags", "media_attachments", "emojis", "entities", "attachments")


@dataclass(frozen=True)
class Match:
    """Rows whose ``column`` is in the id set ``ids`` hold deleted content under ``prefix``.
    Id sets (temporary tables of one column ``id``, filled from int_tombstones): a platform
    name (its message ids a tombstone removes), ``threads`` (deleted Messenger threads),
    ``notifications`` and ``conversations`` (Mastodon's)."""

    column: str
    ids: str
    prefix: str = ""


@dataclass(frozen=True)
class Held:
    """A raw table that can hold deleted content, and how its rows name it."""

    source: str
    table: str
    matches: tuple[Match, ...]


HELD = (
    *(Held("x", table, (Match("id", "x"),))
      for table in ("mentions", "posts", "search_results", "dm_events")),
    Held("meta", "page_posts", (Match("id", "facebook"),)),
    Held("meta", "post_comments", (Match("id", "facebook"),)),
    Held("meta", "conversation_messages", (Match("id", "facebook"),
                                           Match("conversation_id", "threads"))),
    Held("meta", "ig_media", (Match("id", "instagram"),)),
    Held("meta", "ig_comments", (Match("id", "instagram"),)),
    *(Held("mastodon", table, (Match("id", "mastodon"),
                               Match("reblog__id", "mastodon", "reblog__")))
      for table in ("statuses", "tag_statuses")),
    Held("mastodon", "notifications", (Match("id", "notifications", "status__"),
                                       Match("status__id", "mastodon", "status__"),
                                       Match("status__reblog__id", "mastodon",
                                             "status__reblog__"))),
    Held("mastodon", "conversations", (Match("id", "conversations", "last_status__"),
                                       Match("last_status__id", "mastodon", "last_status__"))),
)
# Quarantine tables: the item's own id is the first match's set.
QUARANTINED = tuple((held.source, held.table, held.matches[0].ids) for held in HELD) + (
    ("meta", "page_conversations", "threads"),)


def purge_deleted(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Overwrite the deleted content int_tombstones names in the raw layer; rows changed or
    deleted per table (``schema.table``, only tables that changed). Nothing happens before
    int_tombstones exists (the first dbt build creates it). One transaction."""
    if not _columns(con, *TOMBSTONES.split(".")):
        return {}
    purged: dict[str, int] = {}
    con.execute("begin transaction")
    try:
        _fill_id_sets(con)
        for held in HELD:
            for schema in _schemas(held.source):
                _overwrite(con, schema, held.table, held.matches, purged)
        for source, table, ids in QUARANTINED:
            for schema in _schemas(source):
                _delete_quarantined(con, schema, f"{table}_quarantine", ids, purged)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return purged


def _schemas(source: str) -> tuple[str, str]:
    """The source's raw dataset and dlt's staging dataset beside it (the last load's copy)."""
    return dataset_name(source), f"{dataset_name(source)}_staging"


def _fill_id_sets(con: duckdb.DuckDBPyConnection) -> None:
    # message_key is '<platform>:<message id>'
    for platform in PLATFORMS:
        con.execute(f"create or replace temp table purge_{platform} as "
                    f"select distinct substr(message_key, {len(platform) + 2}) as id "
                    f"from {TOMBSTONES} where message_key like '{platform}:%'")
    for name, source, table in (("threads", "meta", "page_conversations"),
                                ("notifications", "mastodon", "notifications"),
                                ("conversations", "mastodon", "conversations")):
        con.execute(f"create or replace temp table purge_{name} as "
                    f"select distinct item_id as id from {TOMBSTONES} "
                    "where source_name = ? and source_table = ?", [source, table])


def _overwrite(con: duckdb.DuckDBPyConnection, schema: str, table: str,
               matches: tuple[Match, ...], purged: dict[str, int]) -> None:
    present = _columns(con, schema, table)
    changed = 0
    for match in matches:
        if match.column not in present:
            continue
        columns = [(f"{match.prefix}{name}", value)
                   for names, value in ((TEXT_COLUMNS, PURGED_TEXT), (LIST_COLUMNS, PURGED_LIST))
                   for name in names if f"{match.prefix}{name}" in present]
        if not columns:
            continue
        # only rows still holding something, so a second run changes (and counts) nothing
        holding = " or ".join(f'("{c}" is not null and cast("{c}" as varchar) <> ?)'
                              for c, _ in columns)
        assignments = ", ".join(f'"{c}" = case when "{c}" is null then null else ? end'
                                for c, _ in columns)
        values = [value for _, value in columns]
        changed += con.execute(
            f'update "{schema}"."{table}" set {assignments} '
            f'where cast("{match.column}" as varchar) in (select id from purge_{match.ids}) '
            f"and ({holding})", [*values, *values]).fetchone()[0]
    if changed:
        purged[f"{schema}.{table}"] = changed


def _delete_quarantined(con: duckdb.DuckDBPyConnection, schema: str, table: str, ids: str,
                        purged: dict[str, int]) -> None:
    if "item_id" not in _columns(con, schema, table):
        return
    deleted = con.execute(
        f'delete from "{schema}"."{table}" where item_id in (select id from purge_{ids}) '
        "and reason is distinct from ?", [TOMBSTONE]).fetchone()[0]
    if deleted:
        purged[f"{schema}.{table}"] = deleted


def _columns(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> set[str]:
    return {row[0] for row in con.execute(
        "select column_name from information_schema.columns "
        "where table_catalog = current_database() and table_schema = ? and table_name = ?",
        [schema, table]).fetchall()}


class WarehouseBusy(RuntimeError):
    """The warehouse file is open in another process, so it cannot be rewritten."""


def connect_alone(path: Path) -> duckdb.DuckDBPyConnection:
    """A writing connection to the warehouse file, or :class:`WarehouseBusy` when another
    process holds it open (DuckDB's message names that process)."""
    try:
        return duckdb.connect(str(path))
    except duckdb.IOException as exc:
        raise WarehouseBusy(f"cannot purge the warehouse {path}: it is open in another "
                            f"process, and the purge needs it alone ({exc})") from None


def compaction_due(path: Path) -> Path:
    """The marker beside the warehouse file saying a purge changed rows since the last
    compaction (present from the purge's commit until a compaction succeeds)."""
    path = Path(path)
    return path.with_name(f".{path.name}.compaction-due")


def compact_warehouse(path: Path) -> tuple[int, int]:
    """Rewrite the DuckDB file at ``path`` with only its live data; its size before and after.

    Every schema, table, view, macro and sequence is copied (``COPY FROM DATABASE``) into a
    fresh file beside it, which then replaces the old one with an atomic rename: a crash
    before the rename leaves the old file whole (and the partial copy, removed by the next
    compaction), after it the new one. The old file stays open, and so locked (DuckDB's own
    file lock), until the new one is in place: no other process can write to it in between
    and lose its writes. A file open elsewhere (a BI tool, a second run) raises
    :class:`WarehouseBusy` with DuckDB's message naming the holder. Costs a full copy (disk
    space and time of the live data), so it runs only when something was purged.
    """
    path = Path(path)
    fresh = path.with_name(f".{path.name}.compacting")
    for leftover in (fresh, fresh.with_name(fresh.name + ".wal")):
        leftover.unlink(missing_ok=True)
    con = connect_alone(path)
    try:
        before = path.stat().st_size
        con.execute("checkpoint")  # the old file holds everything; its WAL is empty
        (database,) = con.execute("select current_database()").fetchone()
        con.execute(f"attach {sql_string(fresh)} as rapport_compacting")
        try:
            con.execute(f'copy from database "{database}" to rapport_compacting')
        finally:
            con.execute("detach rapport_compacting")  # checkpoints the copy: no WAL left
        with open(fresh, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(fresh, path)
        _fsync_dir(path.parent)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    return before, path.stat().st_size


def _fsync_dir(folder: Path) -> None:
    # the rename is durable only once the folder's entry is written
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
