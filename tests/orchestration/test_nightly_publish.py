"""The nightly job publishes for BI only when every check passed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb

from orchestration.serving import read_status, serving_file
from tests.conftest import run_nightly_on


def serving_digest(serving: Path) -> dict[str, str]:
    con = duckdb.connect(str(serving_file(serving)), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts' "
            "order by 1").fetchall()]
        return {t: hashlib.sha256(repr(con.execute(
            f'select * from marts."{t}" order by all').fetchall()).encode()).hexdigest()
            for t in tables}
    finally:
        con.close()


def test_failing_check_blocks_publishing_and_bi_keeps_the_last_good_night(
        demo_data: Path, tmp_path: Path) -> None:
    data = tmp_path / "demo"
    shutil.copytree(demo_data, data)
    warehouse = tmp_path / "warehouse" / "rapport.duckdb"
    serving = warehouse.parent / "serving"

    assert run_nightly_on(data, warehouse)
    good = serving_digest(serving)
    published = read_status(serving)
    assert {"fct_conversations", "fct_interactions", "fct_mrm", "mart_mrm_daily"} <= set(good)
    assert published.last_attempt_status == "published"

    # The inbox tool starts exporting a platform nobody configured: a dbt test fails.
    bad = data / "payloads" / "inbox" / "inbox_export_2026-11-01.csv"
    header = (data / "payloads" / "inbox").glob("inbox_export_*.csv").__next__() \
        .read_text(encoding="utf-8").splitlines()[0]
    bad.write_text(header + "\nm-1,myspace,1,social,,,,open,2026-11-01T10:00:00Z,\n",
                   encoding="utf-8")
    assert not run_nightly_on(data, warehouse)

    assert serving_digest(serving) == good
    status = read_status(serving)
    assert status.last_attempt_status == "failed"
    assert status.published_at == published.published_at
    # caught by the raw inbox quality check (or, failing that, by dbt's accepted_values test)
    assert any(step in (status.last_failure or "")
               for step in ("raw_inbox_quality", "rapport_dbt_assets"))
