"""The labelled MRM conversation set (tests/fixtures/mrm_conversations/) is consistent.

The set is the specification detected MRMs are measured against
(`scripts/evaluate_mrm_detection.py --conversation-set`); these checks are cheap (no night):
the recorded pages are what spec.yaml builds, every labelled conversation is in the pages with
the id fct_conversations gives it (threads followed as int_messages_threaded does), no
conversation in the pages is unlabelled, and each language has enough conversations of both
classes.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ingestion.settings import REPO_ROOT

SET_DIR = Path(__file__).resolve().parent / "fixtures" / "mrm_conversations"
API = SET_DIR / "api" / "mastodon" / "_as"
MIN_PER_LANGUAGE = 35
CATEGORIES = {
    # true MRMs
    "complaint_solved_thanked", "emoji_thanks", "panic_relieved", "apology_happy",
    "question_delighted", "churn_reversed", "solved_praised_later",
    # not MRMs
    "complaint_unsolved_angry", "complaint_unsolved_silent", "complaint_unsolved_polite",
    "sarcasm", "panic_unrelieved",
    "churn_announced", "question_neutral", "spam", "unanswered", "apology_unhappy",
    "praise_acknowledged", "unprompted_praise",
}


def labels() -> list[dict]:
    lines = (SET_DIR / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def owned_ids() -> set[str]:
    with (SET_DIR / "seeds" / "owned_accounts.csv").open(encoding="utf-8") as handle:
        return {row["account_id"] for row in csv.DictReader(handle)
                if row["platform"] == "mastodon"}


def recorded_statuses() -> dict[str, dict]:
    """Every status the pages hold (mention notifications, own timelines, conversations)."""
    statuses: dict[str, dict] = {}
    for page in API.rglob("*.json"):
        body = json.loads(page.read_text(encoding="utf-8"))["body"]
        for item in body:
            if "last_status" in item:
                status = item["last_status"]
            elif "type" in item:
                status = item.get("status") if item["type"] == "mention" else None
            else:
                status = item
            if status and not status.get("reblog"):
                statuses[status["id"]] = status
    return statuses


def conversations_in_pages() -> dict[str, bool]:
    """Conversation id -> whether an owned account replied, threaded as the warehouse does:
    reply chains to their first held status, one conversation per (medium, thread, person),
    named by its earliest message."""
    statuses, owned = recorded_statuses(), owned_ids()

    def root(status: dict) -> str:
        while status["in_reply_to_id"] in statuses:
            status = statuses[status["in_reply_to_id"]]
        return status["id"]

    groups: dict[tuple, list[dict]] = {}
    for status in statuses.values():
        outbound = status["account"]["id"] in owned
        person = status["in_reply_to_account_id"] if outbound else status["account"]["id"]
        if person is None or person in owned:
            continue  # the brand's own posts
        medium = "direct" if status["visibility"] == "direct" else "public"
        groups.setdefault((medium, root(status), person), []).append(status)
    found = {}
    for members in groups.values():
        first = min(members, key=lambda s: (s["created_at"], int(s["id"])))
        found[f"mastodon:{first['id']}"] = any(s["account"]["id"] in owned for s in members)
    return found


def test_pages_and_labels_are_what_the_spec_builds() -> None:
    check = subprocess.run([sys.executable, str(REPO_ROOT / "scripts" /
                                                 "build_mrm_conversation_set.py"), "--check"],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def test_labels_are_complete_and_unique() -> None:
    rows = labels()
    assert len(rows) >= 80
    assert len({r["conversation_id"] for r in rows}) == len(rows)
    assert len({r["key"] for r in rows}) == len(rows)
    for row in rows:
        assert row["conversation_id"].startswith("mastodon:"), row
        assert isinstance(row["is_mrm"], bool), row
        assert row["lang"] in ("en", "de"), row
        assert row["category"] in CATEGORIES, row
        assert row["reason"].strip(), row


def test_every_labelled_conversation_is_in_the_pages_and_none_is_unlabelled() -> None:
    found = conversations_in_pages()
    rows = labels()
    assert {r["conversation_id"] for r in rows} == set(found)
    for row in rows:
        assert found[row["conversation_id"]] == row["brand_replied"], row["key"]
        # an MRM needs a brand reply (DOMAIN.md)
        assert not row["is_mrm"] or row["brand_replied"], row["key"]


def test_each_language_has_enough_conversations_of_both_classes() -> None:
    rows = labels()
    per_language = Counter(r["lang"] for r in rows)
    assert per_language["en"] >= MIN_PER_LANGUAGE and per_language["de"] >= MIN_PER_LANGUAGE
    classes = Counter((r["lang"], r["is_mrm"]) for r in rows)
    for lang in ("en", "de"):
        assert classes[lang, True] > 0 and classes[lang, False] > 0, lang
    share = sum(r["is_mrm"] for r in rows) / len(rows)
    assert 0.35 <= share <= 0.45, share


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_each_category_is_present_in_both_languages(category: str) -> None:
    assert {r["lang"] for r in labels() if r["category"] == category} == {"en", "de"}


def test_seeds_are_the_projects_seed_files_with_the_sets_accounts() -> None:
    project = {p.name for p in (REPO_ROOT / "dbt_project" / "seeds").iterdir()}
    assert {p.name for p in (SET_DIR / "seeds").iterdir()} == project
    assert owned_ids() == {p.name for p in API.iterdir()}
