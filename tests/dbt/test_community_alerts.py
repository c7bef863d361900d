"""mart_alerts and the other community marts on demo data, against the generator's truth."""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta

from ingestion.settings import REPO_ROOT
from tests.conftest import DemoRun, run_nightly_on


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def test_the_shitstorm_is_one_high_alert_and_nothing_else_is_high(demo_run: DemoRun) -> None:
    storm = demo_run.summary["shitstorm"]
    start, end = utc(storm["start"]), utc(storm["end"])
    alerts = demo_run.query(
        "select alert_id, severity, window_start, window_end, observed_count, baseline_mean, "
        "baseline_stddev, k from marts.mart_alerts")
    overlapping = [a for a in alerts if a[2] < end and a[3] > start]
    assert len(overlapping) == 1
    alert_id, severity, window_start, window_end, observed, mean, stddev, k = overlapping[0]
    assert severity == "high" and k == 3
    # the alert covers the storm's hours and no more than the hour either side
    assert start.replace(minute=0) <= window_start < end
    assert start < window_end <= end.replace(minute=0) + timedelta(hours=1)
    assert observed > mean + 3 * max(stddev, 1.0)
    assert [a for a in alerts if a[1] == "high"] == [overlapping[0]]


def test_share_of_voice_counts_each_competitor_mention_once(demo_run: DemoRun) -> None:
    with (REPO_ROOT / "dbt_project" / "seeds" / "competitors.csv").open() as fh:
        competitors = {r["name"]: r["keyword"] for r in csv.DictReader(fh) if r["kind"] != "brand"}
    texts = []
    for page in sorted((demo_run.data_dir / "payloads" / "x" / "2" / "tweets" / "search"
                        / "recent").glob("*.json")):
        texts += [t["text"].lower() for t in json.loads(page.read_text())["body"].get("data", [])]
    expected = {name: sum(keyword in t for t in texts) for name, keyword in competitors.items()}
    found = dict(demo_run.query(
        "select name, sum(mentions) from marts.mart_share_of_voice_daily "
        "where kind = 'competitor' group by name"))
    assert all(n > 0 for n in expected.values())
    assert found == expected
    shares = demo_run.query(
        "select date_day, sum(share_of_voice) from marts.mart_share_of_voice_daily "
        "where all_mentions > 0 group by date_day")
    assert shares and all(abs(total - 1) < 1e-9 for _, total in shares)


def test_brand_net_sentiment_is_lowest_on_the_shitstorm_day(demo_run: DemoRun) -> None:
    storm_day = utc(demo_run.summary["shitstorm"]["start"]).date()
    rows = demo_run.query(
        "select date_day, net_sentiment from marts.mart_share_of_voice_daily "
        "where kind = 'brand' and mentions >= 5 order by net_sentiment")
    assert rows[0][0] == storm_day


def test_response_and_capacity_marts_agree_with_conversations(demo_run: DemoRun) -> None:
    counts = ("count(*), count(*) filter (where is_answered), "
              "count(*) filter (where is_unanswered) from marts.fct_conversations "
              "where first_inbound_at is not null")
    # the response mart counts spam conversations apart: they await no answer
    (awaiting_answer,) = demo_run.query(f"select {counts} and not is_spam")
    (spam,) = demo_run.query(f"select {counts} and is_spam")
    assert spam[0] > 0 and spam[2] == 0, "giveaway spam opens conversations, never unanswered"
    assert demo_run.query(
        "select sum(conversations), sum(answered_conversations), sum(unanswered) "
        "from marts.mart_response_daily") == [awaiting_answer]
    assert demo_run.query(
        "select sum(spam_conversations) from marts.mart_response_daily") == [(spam[0],)]
    assert demo_run.query(
        "select count(*) from marts.mart_response_daily "
        "where conversations <> answered_conversations + unanswered + awaiting_within_sla"
    ) == [(0,)]
    (everything,) = demo_run.query(f"select {counts}")
    assert demo_run.query(
        "select sum(conversations), sum(answered_conversations) "
        "from marts.mart_capacity_weekly") == [everything[:2]]
    with (REPO_ROOT / "dbt_project" / "seeds" / "team_capacity.csv").open() as fh:
        hours = {r["team"]: float(r["weekly_agent_hours"]) for r in csv.DictReader(fh)}
    assert dict(demo_run.query(
        "select team, max(agent_hours) from marts.mart_capacity_weekly group by team")) == hours


def test_owned_posts_get_an_engagement_rate_where_a_denominator_exists(
        demo_run: DemoRun) -> None:
    rows = dict(demo_run.query(
        "select platform, count(engagement_rate) * 1.0 / count(*) "
        "from marts.mart_post_performance_daily group by platform"))
    # X and Facebook report impressions; Instagram posts fall back on the account's followers
    assert rows["x"] == 1 and rows["facebook"] == 1 and rows["instagram"] == 1


def test_instagram_posts_are_rated_by_the_followers_of_the_nightly_account_read(
        demo_run: DemoRun) -> None:
    # the follower counts the Graph account objects (/{ig-user-id}) answered in the demo
    followers = {}
    for account in demo_run.summary["owned_accounts"]:
        if account["platform"] == "instagram":
            page = demo_run.data_dir / "payloads" / "meta" / account["account_id"] / "first.json"
            followers[account["account_id"]] = json.loads(page.read_text())["body"][
                "followers_count"]
    rows = demo_run.query(
        "select owned_account_id, engagement_basis, followers_count, engagements, "
        "engagement_rate from marts.mart_post_performance_daily where platform = 'instagram'")
    assert rows and len(followers) == 2
    for account_id, basis, count, engagements, rate in rows:
        assert basis == "followers" and count == followers[account_id]
        assert abs(rate - engagements / followers[account_id]) < 1e-12


def test_rerunning_the_night_keeps_alert_ids_and_segments(demo_run: DemoRun) -> None:
    def state() -> tuple:
        return (demo_run.query("select alert_id, severity, window_end from marts.mart_alerts "
                               "order by alert_id"),
                demo_run.query("select contact_key, segment, involvement_score "
                               "from marts.dim_contacts order by contact_key"),
                demo_run.query("select mart_key, engagements from "
                               "marts.mart_post_performance_daily order by mart_key"))

    before = state()
    assert run_nightly_on(demo_run.data_dir, demo_run.warehouse)
    assert state() == before
