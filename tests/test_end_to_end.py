"""The nightly job on demo data: marts agree with the generator's ground truth."""

from __future__ import annotations

import csv
import hashlib
from collections import Counter

from tests.conftest import DemoRun, run_nightly_on

MARTS = ("fct_interactions", "fct_conversations", "fct_mrm", "mart_mrm_daily")
KEYS = {"fct_interactions": "interaction_id", "fct_conversations": "conversation_id",
        "fct_mrm": "mrm_id", "mart_mrm_daily": "mart_key"}


def mart_digest(run: DemoRun, mart: str) -> tuple[int, str]:
    rows = run.query(f"select * from marts.{mart} order by {KEYS[mart]}")
    return len(rows), hashlib.sha256(repr(rows).encode()).hexdigest()


def test_tagged_mrms_per_team_match_the_tags_agents_set(demo_run: DemoRun) -> None:
    counts = dict(demo_run.query(
        "select team, sum(tagged_mrms) from marts.mart_mrm_daily group by team"))
    expected = demo_run.summary["tagged_mrms_by_team"]
    assert expected["social"] > 0 and expected["support"] > 0
    assert {t: counts.get(t) for t in expected} == expected
    assert counts["company"] == demo_run.summary["tagged_mrms_company"]


def test_every_scripted_conversation_is_one_conversation(demo_run: DemoRun) -> None:
    rows = demo_run.query("select conversation_id, is_answered, team from marts.fct_conversations")
    found = {cid: (answered, team) for cid, answered, team in rows}
    truth = {f"{c['platform']}:{c['first_message_id']}": (c["answered"], c["team"])
             for c in demo_run.conversations}
    assert found == truth


def test_unanswered_complaints_breach_and_answered_ones_have_a_response_time(
        demo_run: DemoRun) -> None:
    rows = demo_run.query(
        "select conversation_id, is_unanswered, first_response_minutes "
        "from marts.fct_conversations")
    by_id = {cid: (unanswered, minutes) for cid, unanswered, minutes in rows}
    for c in demo_run.conversations:
        unanswered, minutes = by_id[f"{c['platform']}:{c['first_message_id']}"]
        if c["story"] == "complaint_left_to_rot":
            assert unanswered and minutes is None
        if c["answered"]:
            assert minutes is not None and minutes > 0


def test_help_accounts_answer_faster_than_brand_accounts(demo_run: DemoRun) -> None:
    medians = dict(demo_run.query(
        "select account_purpose, median(first_response_minutes) from marts.fct_conversations "
        "group by account_purpose"))
    assert medians["help"] < medians["brand"]


def test_every_generated_interaction_reaches_fct_interactions(demo_run: DemoRun) -> None:
    by_platform = dict(demo_run.query(
        "select platform, count(*) from marts.fct_interactions group by platform"))
    expected = dict(demo_run.summary["interactions_by_platform"])
    # the hashtag chat's opening post is counted once but served by two endpoints
    assert by_platform == expected


def test_every_crm_lead_and_conversion_reaches_its_person_in_dim_contacts(
        demo_run: DemoRun) -> None:
    """Per contact in the CRM's conversions export: the conversion's source is credited, else
    the earliest lead's; every such person carries it in dim_contacts."""
    with (demo_run.data_dir / "payloads" / "crm" / "conversions.csv").open(
            encoding="utf-8", newline="") as fh:
        records = list(csv.DictReader(fh))
    assert records
    credited: dict[str, tuple] = {}
    for record in sorted(records, key=lambda r: (r["kind"] != "conversion", r["occurred_at"])):
        credited.setdefault(record["contact_id"], (record["source"],
                                                   record["source_platform"] or None))
    expected = Counter(credited.values())
    got = Counter({(source, platform): people for source, platform, people in demo_run.query(
        "select credited_source, credited_platform, count(distinct person_key) "
        "from marts.dim_contacts where credited_source is not null group by all")})
    assert got == expected


def test_rerunning_the_night_changes_nothing(demo_run: DemoRun) -> None:
    before = {m: mart_digest(demo_run, m) for m in MARTS}
    assert run_nightly_on(demo_run.data_dir, demo_run.warehouse)
    after = {m: mart_digest(demo_run, m) for m in MARTS}
    assert after == before
    raw = demo_run.query(
        "select count(*), count(distinct message_id) from raw_inbox.inbox_messages")
    assert raw[0][0] == raw[0][1]
