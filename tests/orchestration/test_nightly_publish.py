"""The nightly job publishes for BI only when every check passed."""

from __future__ import annotations

import hashlib
import json
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

    # A new mention arrives with blank text: it loads, and the raw quality check refuses it.
    page_file = next((data / "payloads" / "x").rglob("mentions/first.json"))
    page = json.loads(page_file.read_text(encoding="utf-8"))
    newest = max(int(t["id"]) for t in page["body"]["data"])
    blank = {**page["body"]["data"][0], "id": str(newest + 1), "text": "   "}
    blank["conversation_id"] = blank["id"]
    blank.pop("referenced_tweets", None)
    page["body"]["data"].insert(0, blank)
    page_file.write_text(json.dumps(page), encoding="utf-8")
    assert not run_nightly_on(data, warehouse)

    assert serving_digest(serving) == good
    status = read_status(serving)
    assert status.last_attempt_status == "failed"
    assert status.published_at == published.published_at
    assert "raw_x_quality" in (status.last_failure or "")
