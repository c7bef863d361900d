"""Write, audit, publish: what BI reads is replaced only by a night that passed its checks.

The nightly job builds and checks everything in the working warehouse. Publishing then writes
a *new* serving DuckDB file holding the marts and a status table, and swaps it in with an
atomic rename, so a BI tool that holds the old file open keeps reading it undisturbed, and new
connections see the new night. Parquet exports of every mart are written to a new snapshot
folder and the ``current`` link is swapped the same way. A failed night changes no data; it
only republishes the status so BI can show that the data is from the last good night.

Layout of the serving folder::

    rapport_serving.duckdb       marts.* tables + meta.serving_status (one row)
    parquet/current -> snapshots/<published_at>/<mart>.parquet
    status.json                  the same status, for tools that read files
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

SERVING_FILE = "rapport_serving.duckdb"
MARTS_SCHEMA = "marts"
KEEP_SNAPSHOTS = 3


@dataclass
class ServingStatus:
    """What BI can show about the data it reads."""

    published_at: str | None = None
    published_run_id: str | None = None
    data_as_of: str | None = None
    last_attempt_at: str | None = None
    last_attempt_run_id: str | None = None
    last_attempt_status: str | None = None  # published | failed
    last_failure: str | None = None
    marts: str | None = None  # JSON: rows per mart of the published night
    # per source, how the published night read it: "configured" or "not configured"
    sources: dict[str, str] | None = None


def sql_string(value: object) -> str:
    """``value`` as an SQL string literal (single quotes doubled). ATTACH and COPY take no
    prepared parameters for their file names; a path with an apostrophe ("O'Brien's data")
    must still work and never end the literal."""
    return "'" + str(value).replace("'", "''") + "'"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def serving_file(serving_dir: Path) -> Path:
    return serving_dir / SERVING_FILE


def read_status(serving_dir: Path) -> ServingStatus:
    """The status of the published data (empty before the first publish)."""
    path = serving_dir / "status.json"
    if not path.exists():
        return ServingStatus()
    return ServingStatus(**json.loads(path.read_text(encoding="utf-8")))


def _write_status_table(con: duckdb.DuckDBPyConnection, status: ServingStatus) -> None:
    fields = list(asdict(status))
    con.execute("create schema if not exists meta")
    con.execute("create or replace table meta.serving_status ("
                + ", ".join(f"{f} varchar" for f in fields) + ")")
    values = [getattr(status, f) for f in fields]
    con.execute(f"insert into meta.serving_status values ({', '.join('?' for _ in fields)})",
                [json.dumps(v, sort_keys=True) if isinstance(v, dict) else v for v in values])


def _swap_in(tmp: Path, target: Path) -> None:
    os.replace(tmp, target)  # atomic on one filesystem: readers see old or new, never half


def _write_status_json(serving_dir: Path, status: ServingStatus) -> None:
    tmp = serving_dir / "status.json.tmp"
    tmp.write_text(json.dumps(asdict(status), indent=2) + "\n", encoding="utf-8")
    _swap_in(tmp, serving_dir / "status.json")


def publish(working: Path, serving_dir: Path, run_id: str, data_as_of_sql: str | None = None,
            sources: dict[str, str] | None = None) -> ServingStatus:
    """Copy every mart from ``working`` into a new serving file and Parquet snapshot, then swap.

    ``data_as_of_sql`` is a query on the working marts giving the newest event time;
    ``sources`` says which sources the night read and which were not configured.
    """
    serving_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    tmp = serving_dir / f".{SERVING_FILE}.{stamp}.tmp"
    snapshot = serving_dir / "parquet" / "snapshots" / stamp
    snapshot.mkdir(parents=True)
    con = duckdb.connect(str(tmp))
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
            con.execute(f'create table {MARTS_SCHEMA}."{mart}" as '
                        f'select * from working.{MARTS_SCHEMA}."{mart}"')
            con.execute(f'copy {MARTS_SCHEMA}."{mart}" to '
                        f'{sql_string(snapshot / (mart + ".parquet"))} (format parquet)')
            counts[mart] = con.execute(f'select count(*) from {MARTS_SCHEMA}."{mart}"'
                                       ).fetchall()[0][0]
        data_as_of = None
        if data_as_of_sql:
            value = con.execute(data_as_of_sql.replace("{marts}", f"working.{MARTS_SCHEMA}")
                                ).fetchall()[0][0]
            data_as_of = str(value) if value is not None else None
        con.execute("detach working")
        now = _now()
        status = ServingStatus(published_at=now, published_run_id=run_id, data_as_of=data_as_of,
                               last_attempt_at=now, last_attempt_run_id=run_id,
                               last_attempt_status="published",
                               marts=json.dumps(counts, sort_keys=True), sources=sources)
        _write_status_table(con, status)
        con.execute("checkpoint")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        shutil.rmtree(snapshot, ignore_errors=True)
        raise
    con.close()
    _swap_in(tmp, serving_file(serving_dir))
    _point_current(serving_dir, snapshot)
    _write_status_json(serving_dir, status)
    _prune_snapshots(serving_dir)
    return status


def _point_current(serving_dir: Path, snapshot: Path) -> None:
    link = serving_dir / "parquet" / "current"
    tmp_link = serving_dir / "parquet" / f".current.{snapshot.name}"
    tmp_link.symlink_to(Path("snapshots") / snapshot.name, target_is_directory=True)
    _swap_in(tmp_link, link)


def _prune_snapshots(serving_dir: Path) -> None:
    snapshots = sorted((serving_dir / "parquet" / "snapshots").iterdir())
    current = (serving_dir / "parquet" / "current").resolve()
    for old in snapshots[:-KEEP_SNAPSHOTS]:
        if old.resolve() != current:
            shutil.rmtree(old, ignore_errors=True)


def record_failure(serving_dir: Path, run_id: str, message: str) -> ServingStatus:
    """Say that a night failed, keeping the published data as it was.

    The serving file is never written in place (a BI reader may hold it): a copy gets the new
    status and is swapped in.
    """
    serving_dir.mkdir(parents=True, exist_ok=True)
    status = read_status(serving_dir)
    status.last_attempt_at = _now()
    status.last_attempt_run_id = run_id
    status.last_attempt_status = "failed"
    status.last_failure = message[:2000]
    current = serving_file(serving_dir)
    tmp = serving_dir / f".{SERVING_FILE}.failed.tmp"
    if current.exists():
        shutil.copyfile(current, tmp)
    con = duckdb.connect(str(tmp))
    try:
        _write_status_table(con, status)
        con.execute("checkpoint")
    finally:
        con.close()
    _swap_in(tmp, current)
    _write_status_json(serving_dir, status)
    return status
