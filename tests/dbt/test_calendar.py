"""dim_date holds every day a mart reports, whatever day of the week or month the data ends on.

One `dbt build --select dim_date` on a small DuckDB holding only a stand-in fct_interactions:
it runs the dim_date unit tests (every weekday as the last day, month and year ends, an empty
warehouse; models/marts/_marts__calendar_unit_tests.yml) and then builds the real model.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingestion.settings import REPO_ROOT

DBT_PROJECT = REPO_ROOT / "dbt_project"


def build_dim_date(tmp_path: Path, interaction_days: list[date]) -> subprocess.CompletedProcess:
    """Build dim_date (with its unit and data tests) over interactions on these days."""
    warehouse = tmp_path / "calendar.duckdb"
    con = duckdb.connect(str(warehouse))
    con.execute("create schema marts")
    con.execute("create table marts.fct_interactions (created_at timestamp, created_on date)")
    con.executemany("insert into marts.fct_interactions values (?, ?)",
                    [(day, day) for day in interaction_days])
    con.close()
    dbt = Path(sys.executable).parent / "dbt"
    return subprocess.run(
        [str(dbt), "build", "--no-use-colors", "--select", "dim_date",
         "--indirect-selection", "cautious",
         "--profiles-dir", ".", "--target-path", str(tmp_path / "target"),
         "--log-path", str(tmp_path / "logs")],
        cwd=DBT_PROJECT, capture_output=True, text=True,
        env={**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)})


def test_dim_date_ends_on_the_sunday_the_data_ends_on_and_its_unit_tests_pass(
        tmp_path: Path) -> None:
    # Monday 2026-03-02 to Sunday 2026-03-29, which is also the night's newest message day:
    # the day mart_post_performance_daily reports its snapshots on.
    first, last = date(2026, 3, 2), date(2026, 3, 29)
    result = build_dim_date(tmp_path, [first, date(2026, 3, 12), last])
    assert result.returncode == 0, result.stdout[-4000:]
    unit_tests_passed = re.findall(r"PASS dim_date::(\w+)", result.stdout)
    assert "dim_date_holds_the_whole_week_when_the_data_ends_on_a_sunday" in unit_tests_passed
    assert len(unit_tests_passed) >= 13
    con = duckdb.connect(str(tmp_path / "calendar.duckdb"), read_only=True)
    days = [row[0] for row in con.execute(
        "select date_day from marts.dim_date order by date_day").fetchall()]
    con.close()
    assert days == [first + timedelta(n) for n in range((last - first).days + 1)]
