"""The morning digest reaches the webhook once per published night, with yesterday's figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from dagster import build_sensor_context

from orchestration.digest import digest_day
from orchestration.serving import read_status
from tests.conftest import DemoRun
from tests.orchestration.test_serving import Receiver


@pytest.fixture
def hook() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.server.shutdown()


def test_the_digest_of_a_published_night_is_posted_once_with_yesterdays_mrms(
        demo_run: DemoRun, hook: Receiver, monkeypatch: pytest.MonkeyPatch) -> None:
    from orchestration.sensors import nightly_digest

    serving = demo_run.warehouse.parent / "serving"
    monkeypatch.setenv("RAPPORT_SERVING_DIR", str(serving))
    monkeypatch.setenv("RAPPORT_WEBHOOK_URL", hook.url)
    status = read_status(serving)
    hook.fail = True
    context = build_sensor_context()
    nightly_digest(context)
    assert hook.bodies == [] and context.cursor is None  # refused: tried again
    hook.fail = False
    nightly_digest(context)
    nightly_digest(build_sensor_context(cursor=context.cursor))  # the same night: nothing
    assert len(hook.bodies) == 1
    digest = hook.bodies[0]
    day = date.fromisoformat(status.data_as_of[:10]) - timedelta(days=1)
    assert digest["day"] == day.isoformat() and digest["run_id"] == status.published_run_id
    # MRMs per team counted from the MRM facts themselves
    mrms = Counter(team for team, in demo_run.query(
        f"select team from marts.fct_mrm where started_on = date '{day}'"))
    assert {team: v["mrms"] for team, v in digest["mrms_per_team"].items()} == dict(mrms)
    assert "MRMs:" in digest["text"] and "Waiting past the SLA now:" in digest["text"]
    assert digest["waiting_past_sla"] == demo_run.query(
        "select count(*) from marts.fct_conversations where is_unanswered")[0][0] > 0
    assert f"Waiting past the SLA now: {digest['waiting_past_sla']}" in digest["text"]
    # SLA breaches of the day as the response mart counts them, per channel and team
    assert sum(c["sla_breaches"] for c in digest["channels"]) == demo_run.query(
        f"select coalesce(sum(sla_breaches), 0) from marts.mart_response_daily "
        f"where date_day = date '{day}'")[0][0]
    assert digest["text"].endswith("index.html")


def test_the_digest_day_is_the_last_whole_day_before_the_newest_message() -> None:
    assert digest_day("2026-10-31T19:00:00Z") == date(2026, 10, 30)
    assert digest_day("2026-11-02T00:30:00Z") == date(2026, 11, 1)
    assert digest_day(None) is None
