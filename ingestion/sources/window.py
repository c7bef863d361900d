"""A backfill window: re-read one time range from an API instead of what is new since the cursor.

Sources take optional ``start``/``end`` arguments. Without them a run is incremental (the
nightly run): it reads from the cursor kept in dlt state and moves the cursor on. With them the
run reads ``[start, end)`` with the platform's own time filter, merges by primary key, and
leaves the cursors exactly as they were, so a backfill of an old range can never make the next
night skip or re-read data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Window:
    """A half-open time range ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def contains(self, moment: datetime | None) -> bool:
        """True when ``moment`` falls in the window (None never does)."""
        return moment is not None and self.start <= moment < self.end


def backfill_window(start: datetime | str | None, end: datetime | str | None,
                    source: str) -> Window | None:
    """The window of a run, or None for an incremental run; a clear error for half a window.

    Naive datetimes (and ISO strings without an offset) are taken as UTC.
    """
    if start is None and end is None:
        return None
    if start is None or end is None:
        raise ValueError(f"{source}: a backfill needs both start and end (got start={start!r}, "
                         f"end={end!r})")
    window = Window(_utc(start), _utc(end))
    if window.start >= window.end:
        raise ValueError(f"{source}: backfill start {window.start.isoformat()} is not before "
                         f"end {window.end.isoformat()}")
    return window


def parse_time(value: str | None) -> datetime | None:
    """An API timestamp (ISO 8601, ``Z`` or ``+0000`` offsets) as an aware UTC datetime."""
    if not value:
        return None
    return _utc(value)


def _utc(value: datetime | str) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
