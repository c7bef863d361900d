"""Write, audit, publish: what BI reads is replaced only by a night that passed its checks.

The nightly job builds and checks everything in the working warehouse. Publishing then writes
a *new night folder* holding everything BI reads of that night (the serving DuckDB file with
the marts and its status table, one Parquet file per mart, ``status.json``), and switches the
one pointer ``current`` to it with an atomic rename. The paths BI opens are fixed links
through ``current``, so all of them change together, in that one rename: a reader sees the
old whole night or the new whole night, never a mix. A BI tool that holds the old file open
keeps reading it undisturbed (the old folder stays, ``KEEP_SNAPSHOTS`` nights are kept). A
failed night changes no data; it publishes a copy of the current night with the new status.

Layout of the serving folder::

    current -> nights/<night>            the one pointer, swapped last
    nights/<night>/rapport_serving.duckdb    marts.* tables + meta.serving_status (one row)
    nights/<night>/parquet/<mart>.parquet
    nights/<night>/status.json           the same status, for tools that read files
    nights/<night>/report/index.html     the nightly report (orchestration/report.py)
    rapport_serving.duckdb -> current/rapport_serving.duckdb     fixed links: what BI opens
    parquet/current -> ../current/parquet
    status.json -> current/status.json
    report -> current/report             open report/index.html in a browser
    publish.lock                         held while a night publishes or a failure is recorded

A night is built in ``nights/.<night>.tmp`` and renamed to ``nights/<night>`` when complete;
whatever an interrupted publish left (a ``.tmp`` folder, its ``.wal``, a half-made link) is
removed by the next publish.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingestion.sql import sql_string
from orchestration.contracts import MartDoc, comment_statements, parquet_metadata
from orchestration.report import REPORT_DIR, build_report

SERVING_FILE = "rapport_serving.duckdb"
STATUS_FILE = "status.json"
PARQUET_DIR = "parquet"
NIGHTS_DIR = "nights"
CURRENT = "current"
LOCK_FILE = "publish.lock"
MARTS_SCHEMA = "marts"
KEEP_SNAPSHOTS = 3
# The links BI opens, each relative to the serving folder, and where it points (relative to
# the link's own folder): made once, never changed; only ``current`` moves.
FIXED_LINKS = {
    SERVING_FILE: f"{CURRENT}/{SERVING_FILE}",
    STATUS_FILE: f"{CURRENT}/{STATUS_FILE}",
    f"{PARQUET_DIR}/{CURRENT}": f"../{CURRENT}/{PARQUET_DIR}",
    REPORT_DIR: f"{CURRENT}/{REPORT_DIR}",
}
# Steps of a publish, in order, as passed to ``on_step`` after each one is done.
PUBLISH_STEPS = ("cleaned", "marts_copied", "status_written", "file_closed", "report_written",
                 "night_complete", "switched", "pruned")


@dataclass
class ServingStatus:
    """What BI can show about the data it reads."""

    published_at: str | None = None
    published_run_id: str | None = None
    data_as_of: str | None = None
    last_attempt_at: str | None = None
    last_attempt_run_id: str | None = None
    last_attempt_status: str | None = None  # published | failed | interrupted
    last_failure: str | None = None
    marts: dict[str, int] | None = None  # rows per mart of the published night
    # per source, how the published night read it: "configured" or "not configured"
    sources: dict[str, str] | None = None


def _iso_utc(value: object) -> str | None:
    """A time from the marts (naive timestamps are UTC there) as ISO 8601 with its zone, the
    form every other time of the status has."""
    if value is None:
        return None
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def serving_file(serving_dir: Path) -> Path:
    """The serving DuckDB file BI opens (a fixed link to the current night's file)."""
    return serving_dir / SERVING_FILE


def current_night(serving_dir: Path) -> Path | None:
    """The folder of the night BI reads now (resolve it once to read several of its outputs
    as one night), or None before the first publish."""
    link = serving_dir / CURRENT
    return link.resolve() if link.is_symlink() and link.resolve().is_dir() else None


def read_status(serving_dir: Path) -> ServingStatus:
    """The status of the published data (empty before the first publish)."""
    path = serving_dir / STATUS_FILE
    if not path.exists():
        return ServingStatus()
    status = ServingStatus(**json.loads(path.read_text(encoding="utf-8")))
    if isinstance(status.marts, str):  # written by a version that nested it as a JSON string
        status.marts = json.loads(status.marts)
    return status


def _write_status_table(con: duckdb.DuckDBPyConnection, status: ServingStatus) -> None:
    fields = list(asdict(status))
    con.execute("create schema if not exists meta")
    con.execute("create or replace table meta.serving_status ("
                + ", ".join(f"{f} varchar" for f in fields) + ")")
    values = [getattr(status, f) for f in fields]
    con.execute(f"insert into meta.serving_status values ({', '.join('?' for _ in fields)})",
                [json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in values])


def _write_status_json(folder: Path, status: ServingStatus) -> None:
    path = folder / STATUS_FILE
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(status), indent=2) + "\n")
        fh.flush()
        os.fsync(fh.fileno())


@contextmanager
def _publishing(serving_dir: Path) -> Iterator[None]:
    """One publish or failure record at a time: the failure sensor (in the daemon) may record
    a night's failure while the next night publishes (in its run worker)."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    with (serving_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, or the process dies
        yield


def _night_name(run_id: str, kind: str = "") -> str:
    # sortable by time; the run id kept readable but never a path separator or a dot-file
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    safe = re.sub(r"[^A-Za-z0-9_-]+", "_", run_id)[:40]
    return f"{stamp}-{safe}{kind}"


def _new_night(serving_dir: Path, name: str) -> Path:
    building = serving_dir / NIGHTS_DIR / f".{name}.tmp"
    (building / PARQUET_DIR).mkdir(parents=True)
    return building


def publish(working: Path, serving_dir: Path, run_id: str, data_as_of_sql: str | None = None,
            sources: dict[str, str] | None = None,
            on_step: Callable[[str], None] | None = None,
            docs: dict[str, MartDoc] | None = None) -> ServingStatus:
    """Copy every mart from ``working`` into a new night folder (serving file, Parquet,
    status), then switch ``current`` to it in one rename.

    ``data_as_of_sql`` is a query on the working marts giving the newest event time;
    ``sources`` says which sources the night read and which were not configured; ``on_step``
    is called with each name of ``PUBLISH_STEPS`` once that step is done (to observe or
    interrupt a publish); ``docs`` (from :func:`orchestration.contracts.mart_docs`) are the
    marts' descriptions and NOT NULL columns, written into the serving file as comments and
    constraints and into each Parquet file's metadata.
    """
    with _publishing(serving_dir):
        return _publish(working, serving_dir, run_id, data_as_of_sql, sources,
                        on_step or (lambda _name: None), docs or {})


def _publish(working: Path, serving_dir: Path, run_id: str, data_as_of_sql: str | None,
             sources: dict[str, str] | None, step: Callable[[str], None],
             docs: dict[str, MartDoc]) -> ServingStatus:
    remove_leftovers(serving_dir)
    step("cleaned")
    name = _night_name(run_id)
    building = _new_night(serving_dir, name)
    con = duckdb.connect(str(building / SERVING_FILE))
    try:
        con.execute(f"attach {sql_string(working)} as working (read_only)")
        marts = [r[0] for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = 'working' and table_schema = ? order by table_name",
            [MARTS_SCHEMA]).fetchall()]
        if not marts:
            raise RuntimeError(
                f"no tables in schema {MARTS_SCHEMA} of {working}: nothing to publish")
        con.execute(f"create schema {MARTS_SCHEMA}")
        counts = {}
        for mart in marts:
            table = f'{MARTS_SCHEMA}."{mart}"'
            con.execute(f"create table {table} as select * from working.{table}")
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = current_database()"
                " and schema_name = ? and table_name = ? order by column_index",
                [MARTS_SCHEMA, mart]).fetchall()]
            doc = docs.get(mart)
            for statement in comment_statements(table, doc, columns) if doc else []:
                con.execute(statement)
            metadata = f", kv_metadata {parquet_metadata(doc, columns)}" if doc else ""
            con.execute(f"copy {table} to "
                        f'{sql_string(building / PARQUET_DIR / (mart + ".parquet"))} '
                        f"(format parquet{metadata})")
            counts[mart] = con.execute(f'select count(*) from {MARTS_SCHEMA}."{mart}"'
                                       ).fetchall()[0][0]
        data_as_of = None
        if data_as_of_sql:
            value = con.execute(data_as_of_sql.replace("{marts}", f"working.{MARTS_SCHEMA}")
                                ).fetchall()[0][0]
            data_as_of = _iso_utc(value)
        con.execute("detach working")
        step("marts_copied")
        now = _now()
        status = ServingStatus(published_at=now, published_run_id=run_id, data_as_of=data_as_of,
                               last_attempt_at=now, last_attempt_run_id=run_id,
                               last_attempt_status="published",
                               marts=counts, sources=sources)
        _write_status_table(con, status)
        con.execute("checkpoint")
        _write_status_json(building, status)
        step("status_written")
    except BaseException:
        con.close()
        shutil.rmtree(building, ignore_errors=True)
        raise
    con.close()
    step("file_closed")
    try:
        build_report(building)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    step("report_written")
    _switch_to(serving_dir, building, name, step)
    return status


def _switch_to(serving_dir: Path, building: Path, name: str,
               step: Callable[[str], None]) -> None:
    """Finish the night folder, point ``current`` at it (the one switch), prune old nights."""
    night = serving_dir / NIGHTS_DIR / name
    os.replace(building, night)
    step("night_complete")
    tmp_link = serving_dir / f".{CURRENT}.{name}.tmp"
    tmp_link.symlink_to(Path(NIGHTS_DIR) / name, target_is_directory=True)
    # atomic on one filesystem: every fixed link resolves to the old night or the new one
    os.replace(tmp_link, serving_dir / CURRENT)
    _ensure_fixed_links(serving_dir)
    step("switched")
    _prune_nights(serving_dir)
    step("pruned")


def _ensure_fixed_links(serving_dir: Path) -> None:
    """Make the links BI opens point through ``current``. Only the first publish of this
    layout changes them (replacing a serving folder's regular files and old Parquet link,
    each atomically); from then on they never change."""
    migrated = False
    for path, target in FIXED_LINKS.items():
        link = serving_dir / path
        if link.is_symlink() and os.readlink(link) == target:
            continue
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.parent / f".{link.name}.link.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(target)
        os.replace(tmp, link)
        migrated = True
    if migrated:  # the Parquet snapshots of the layout before night folders
        shutil.rmtree(serving_dir / PARQUET_DIR / "snapshots", ignore_errors=True)


def remove_leftovers(serving_dir: Path) -> list[Path]:
    """Delete what an interrupted publish left behind: unfinished night folders (with their
    serving file's ``.wal``), half-made links, and the temporary files of the layout before
    night folders. Returns what was removed. Only one night publishes at a time (the
    ``duckdb_writer`` pool), so nothing here belongs to a publish under way."""
    removed = []
    candidates = [*serving_dir.glob(".*.tmp"), *serving_dir.glob(".*.tmp.wal"),
                  *(serving_dir / NIGHTS_DIR).glob(".*"),
                  *(serving_dir / PARQUET_DIR).glob(".*"),
                  serving_dir / f"{STATUS_FILE}.tmp"]
    for path in candidates:
        if path.is_symlink() or path.is_file():
            path.unlink()
        elif path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            continue
        removed.append(path)
    return removed


def _prune_nights(serving_dir: Path) -> None:
    nights = sorted(p for p in (serving_dir / NIGHTS_DIR).iterdir()
                    if p.is_dir() and not p.name.startswith("."))
    current = current_night(serving_dir)
    for old in nights[:-KEEP_SNAPSHOTS]:
        if old.resolve() != current:
            # a BI reader holding a file of it open keeps reading it (POSIX unlink semantics)
            shutil.rmtree(old, ignore_errors=True)


def record_failure(serving_dir: Path, run_id: str, message: str, outcome: str = "failed",
                   on_step: Callable[[str], None] | None = None) -> ServingStatus:
    """Say that a night failed (``outcome`` "failed", or "interrupted" for a night whose
    process was killed), keeping the published data as it was.

    Nothing BI reads is written in place (a reader may hold it): a new night folder gets a
    copy of the current serving file with the new status, the same Parquet files (hard
    links) and the new ``status.json``, and is switched in like a published night
    (``on_step`` as for :func:`publish`, from "night_complete" on).
    """
    with _publishing(serving_dir):
        return _record_failure(serving_dir, run_id, message, outcome,
                               on_step or (lambda _name: None))


def _record_failure(serving_dir: Path, run_id: str, message: str, outcome: str,
                    step: Callable[[str], None]) -> ServingStatus:
    status = read_status(serving_dir)
    status.last_attempt_at = _now()
    status.last_attempt_run_id = run_id
    status.last_attempt_status = outcome
    status.last_failure = message[:2000]
    remove_leftovers(serving_dir)
    current = serving_file(serving_dir)
    old_parquet = serving_dir / PARQUET_DIR / CURRENT
    name = _night_name(run_id, f"-{outcome}")
    building = _new_night(serving_dir, name)
    try:
        if current.exists():
            shutil.copyfile(current, building / SERVING_FILE)
        if old_parquet.is_dir():
            for part in old_parquet.resolve().glob("*.parquet"):
                _link_or_copy(part, building / PARQUET_DIR / part.name)
        con = duckdb.connect(str(building / SERVING_FILE))
        try:
            _write_status_table(con, status)
            con.execute("checkpoint")
        finally:
            con.close()
        _write_status_json(building, status)
        if (building / SERVING_FILE).exists():
            build_report(building)  # the banner says the night failed
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _switch_to(serving_dir, building, name, step)
    return status


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # Parquet files are never written again: share them
    except OSError:
        shutil.copyfile(source, target)
