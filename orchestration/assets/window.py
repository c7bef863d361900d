"""The days a run re-reads and rebuilds: empty for the incremental nightly run, set for a backfill.

One resource (key ``backfill``) read by every asset that cares: the dlt assets pass the window
to their API sources as ``start``/``end``, the dbt assets pass it to dbt as ``--vars``. The
``backfill`` job (:mod:`orchestration.schedules`) asks for it as run config in the Dagster UI.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta

from dagster import ConfigurableResource
from pydantic import Field

from orchestration.days import window_problem
from orchestration.preflight import configuration_failure


class BackfillWindow(ConfigurableResource):
    """Whole UTC days ``start`` to ``end`` (both included) to re-read and rebuild.

    Left empty (the default), a run is the incremental nightly run.
    """

    start: str | None = Field(default=None, description="First day to backfill, YYYY-MM-DD.")
    end: str | None = Field(default=None,
                            description="Last day to backfill (included), YYYY-MM-DD.")
    dbt_full_refresh: bool = Field(
        default=False, description="Rebuild the incremental dbt models from scratch too.")

    def bounds(self) -> tuple[datetime, datetime] | None:
        """``[first day 00:00 UTC, day after the last 00:00 UTC)``, or None when not set."""
        if self.start is None and self.end is None:
            return None
        problem = window_problem(self.start, self.end)
        if problem:
            raise configuration_failure(f"backfill: {problem}")
        first, last = date.fromisoformat(self.start), date.fromisoformat(self.end)
        return (datetime.combine(first, time(0), tzinfo=UTC),
                datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC))

    def source_args(self) -> dict[str, datetime]:
        """``start``/``end`` for an API source; nothing for an incremental run."""
        bounds = self.bounds()
        return {"start": bounds[0], "end": bounds[1]} if bounds else {}

    def dbt_args(self) -> list[str]:
        """Extra ``dbt build`` arguments: the window as vars, and --full-refresh if asked."""
        args = ["--full-refresh"] if self.dbt_full_refresh else []
        bounds = self.bounds()
        if bounds:
            # the models' timestamps are plain UTC timestamps: pass plain UTC times
            window = {"window_start": f"{bounds[0]:%Y-%m-%d %H:%M:%S}",
                      "window_end": f"{bounds[1]:%Y-%m-%d %H:%M:%S}"}
            args += ["--vars", json.dumps(window)]
        return args

