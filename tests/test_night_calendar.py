"""A night publishes whatever weekday its newest message falls on (issue 11: every night whose
newest message was on a Sunday failed, because dim_date ended a day early)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

from tests.conftest import query, run_nightly_on

SUNDAY_NIGHT = datetime(2026, 11, 1, 23, 0, tzinfo=UTC)


def test_a_night_whose_newest_message_is_on_a_sunday_publishes(tmp_path: Path) -> None:
    from ingestion.demo.generator import generate

    assert SUNDAY_NIGHT.weekday() == 6
    data, warehouse = tmp_path / "data", tmp_path / "warehouse" / "rapport.duckdb"
    generate(data, seed=11, interactions=1200, days=28, end=SUNDAY_NIGHT)
    assert run_nightly_on(data, warehouse), "the night failed"
    status = json.loads((warehouse.parent / "serving" / "status.json").read_text())
    assert status["last_attempt_status"] == "published"
    serving = warehouse.parent / "serving" / "rapport_serving.duckdb"
    newest = query(serving, "select max(created_at) from marts.fct_interactions")
    last_day = query(serving, "select max(date_day) from marts.dim_date")
    reported = query(serving, "select max(date_day) from marts.mart_response_daily")
    assert newest[0][0].date() == date(2026, 11, 1), "the data should end on the Sunday"
    assert last_day[0][0] >= newest[0][0].date()
    assert reported[0][0] <= last_day[0][0]
