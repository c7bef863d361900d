"""Thresholds of the quality checks, read from the environment when a check runs."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

# X opened to the public on 2006-03-21: nothing on any platform Rapport reads is older.
DEFAULT_EARLIEST = "2006-03-21"


@dataclass(frozen=True)
class QualitySettings:
    """What the checks call too old, too new, shrunk or jumped.

    Row-count bounds are ratios of the last accepted count of the same table: a table below
    ``previous * (1 - shrink)`` or above ``previous * growth`` fails, with WARN (does not block)
    or ERROR (blocks everything downstream) severity.
    """

    earliest: datetime
    future_tolerance: timedelta
    warn_shrink: float
    error_shrink: float
    warn_growth: float
    error_growth: float

    @classmethod
    def from_env(cls) -> QualitySettings:
        """Settings from ``RAPPORT_QUALITY_*`` variables, else the documented defaults."""
        earliest = date.fromisoformat(_env("EARLIEST", DEFAULT_EARLIEST))
        settings = cls(
            earliest=datetime.combine(earliest, time(0), tzinfo=UTC),
            future_tolerance=timedelta(minutes=float(_env("FUTURE_TOLERANCE_MINUTES", "5"))),
            warn_shrink=float(_env("ROWS_WARN_SHRINK", "0")),
            error_shrink=float(_env("ROWS_ERROR_SHRINK", "0.5")),
            warn_growth=float(_env("ROWS_WARN_GROWTH", "2")),
            error_growth=float(_env("ROWS_ERROR_GROWTH", "10")),
        )
        if not 0 <= settings.warn_shrink <= settings.error_shrink <= 1:
            raise ValueError("need 0 <= RAPPORT_QUALITY_ROWS_WARN_SHRINK <= "
                             "RAPPORT_QUALITY_ROWS_ERROR_SHRINK <= 1")
        if not 1 <= settings.warn_growth <= settings.error_growth:
            raise ValueError("need 1 <= RAPPORT_QUALITY_ROWS_WARN_GROWTH <= "
                             "RAPPORT_QUALITY_ROWS_ERROR_GROWTH")
        return settings

    def latest_allowed(self, now: datetime) -> datetime:
        """The newest timestamp that is not in the future (allowing for clock skew)."""
        return now + self.future_tolerance


def _env(name: str, default: str) -> str:
    return os.environ.get(f"RAPPORT_QUALITY_{name}") or default
