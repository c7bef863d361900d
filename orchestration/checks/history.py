"""Row counts of earlier nights, kept in the warehouse beside the data they describe.

``audit.row_counts`` holds one row per table and check run. The baseline a night is compared
with is the latest count that was not refused: a count that failed with ERROR stays refused
(and keeps failing) until someone sets its outcome to ``accepted`` after looking into it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

TABLE = "audit.row_counts"
PASSED, WARNED, FAILED, ACCEPTED = "passed", "warned", "failed", "accepted"


@dataclass(frozen=True)
class Baseline:
    """The count a table is compared with, and when it was taken."""

    row_count: int
    checked_at: datetime


def ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    """Create the audit schema and table if this warehouse has none yet."""
    con.execute("create schema if not exists audit")
    con.execute(f"""
        create table if not exists {TABLE} (
            asset_key varchar not null,
            checked_at timestamptz not null,
            row_count bigint not null,
            outcome varchar not null,
            run_id varchar
        )""")


def baseline(con: duckdb.DuckDBPyConnection, asset_key: str) -> Baseline | None:
    """The latest count of ``asset_key`` that was not refused; None on its first night."""
    ensure_table(con)
    rows = con.execute(
        f"select row_count, checked_at from {TABLE} where asset_key = ? and outcome <> ? "
        "order by checked_at desc limit 1", [asset_key, FAILED]).fetchall()
    return Baseline(int(rows[0][0]), rows[0][1]) if rows else None


def record(con: duckdb.DuckDBPyConnection, asset_key: str, row_count: int, outcome: str,
           checked_at: datetime, run_id: str | None) -> None:
    """Keep tonight's count and whether it was passed, warned about or refused."""
    ensure_table(con)
    con.execute(f"insert into {TABLE} values (?, ?, ?, ?, ?)",
                [asset_key, checked_at, row_count, outcome, run_id])
