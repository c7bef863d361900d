"""Backfill days as people type them, checked without loading anything heavy.

The CLI checks ``--start``/``--end`` before it imports Dagster or dlt, so a mistyped day is
refused at once; the Dagster backfill config and ``rapport check`` use the same rules.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime


def parse_day(value: str, name: str) -> date:
    """A ``YYYY-MM-DD`` day, or a ValueError naming the option and the value."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value or ""):
        raise ValueError(f"{name} {value!r} is not a day (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise ValueError(f"{name} {value!r} is not a day ({error})") from None


def window_problem(start: str | None, end: str | None) -> str | None:
    """Why ``start``..``end`` is not a backfill window, or None (both None: a nightly run)."""
    if start is None and end is None:
        return None
    if not start or not end:
        return "a backfill needs both start and end days (--start, --end: YYYY-MM-DD)"
    try:
        first, last = parse_day(start, "start"), parse_day(end, "end")
    except ValueError as error:
        return str(error)
    if last < first:
        return f"end {last} is before start {first}"
    today = datetime.now(UTC).date()
    if first > today:
        return f"start {first} is in the future (today is {today} UTC)"
    return None
