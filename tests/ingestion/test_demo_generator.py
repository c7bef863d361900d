"""The demo generator: deterministic, API-shaped, with ground truth kept apart."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ingestion.demo.generator import generate
from tests.conftest import read_jsonl


def tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def envelope(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_same_seed_writes_byte_identical_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, interactions=1500)
    generate(tmp_path / "b", seed=3, interactions=1500)
    assert tree_digest(tmp_path / "a") == tree_digest(tmp_path / "b")


def test_other_seed_writes_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", seed=3, interactions=1500)
    generate(tmp_path / "b", seed=4, interactions=1500)
    assert tree_digest(tmp_path / "a") != tree_digest(tmp_path / "b")


def test_size_option_scales_interactions(tmp_path: Path) -> None:
    small = generate(tmp_path / "s", seed=1, interactions=1000)
    large = generate(tmp_path / "l", seed=1, interactions=8000)
    assert 1000 <= small.interactions < 1100
    assert 8000 <= large.interactions < 8100
    assert large.people > 5 * small.people


def test_too_small_sizes_are_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 500"):
        generate(tmp_path, interactions=10)
    with pytest.raises(ValueError, match="at least 28"):
        generate(tmp_path, days=7)


def test_ground_truth_is_kept_apart_from_payloads(demo_data: Path) -> None:
    payload_files = [p.name for p in (demo_data / "payloads").rglob("*") if p.is_file()]
    assert not [n for n in payload_files if "truth" in n or n == "summary.json"]
    assert {p.name for p in (demo_data / "ground_truth").iterdir()} == {
        "summary.json", "conversations.jsonl", "contacts.jsonl"}


def test_ground_truth_summary_agrees_with_its_detail(demo_data: Path) -> None:
    truth = demo_data / "ground_truth"
    summary = json.loads((truth / "summary.json").read_text())
    conversations = read_jsonl(truth / "conversations.jsonl")
    assert summary["conversations"] == len(conversations)
    assert summary["true_mrms"] == sum(c["true_mrm"] for c in conversations)
    assert summary["tagged_mrms_company"] == sum(bool(c["tags"]) for c in conversations)
    for team, tag in (("social", "#socialMRM"), ("support", "#supportMRM")):
        assert summary["tagged_mrms_by_team"][team] == sum(tag in c["tags"] for c in conversations)


def test_every_story_and_segment_is_played(demo_data: Path) -> None:
    truth = demo_data / "ground_truth"
    stories = {c["story"] for c in read_jsonl(truth / "conversations.jsonl")}
    assert {"question_answered", "question_unanswered", "complaint_turned_fan",
            "complaint_left_to_rot", "panicked_calmed", "giveaway_spam",
            "outage_shitstorm"} <= stories
    segments = {c["segment"] for c in read_jsonl(truth / "contacts.jsonl")}
    assert {"advocate", "punk", "observer", "panicked"} <= segments
    conversations = read_jsonl(truth / "conversations.jsonl")
    # agents tag some true MRMs and miss others
    true_mrms = [c for c in conversations if c["true_mrm"]]
    assert 0 < sum(bool(c["tags"]) for c in true_mrms) < len(true_mrms)


def test_shitstorm_concentrates_negative_posts_in_its_window(demo_data: Path) -> None:
    truth = demo_data / "ground_truth"
    summary = json.loads((truth / "summary.json").read_text())
    storm = [c for c in read_jsonl(truth / "conversations.jsonl")
             if c["story"] == "outage_shitstorm"]
    start, end = summary["shitstorm"]["start"], summary["shitstorm"]["end"]
    assert len(storm) >= 40
    assert all(start <= c["started_at"] <= end for c in storm)


def test_x_pages_link_with_next_token_until_the_last(demo_data: Path) -> None:
    mentions = demo_data / "payloads" / "x" / "2" / "users" / "1000000000000000002" / "mentions"
    page, seen = "first", 0
    while True:
        body = envelope(mentions / f"{page}.json")["body"]
        assert body["meta"]["result_count"] == len(body.get("data", []))
        users = {u["id"] for u in body["includes"]["users"]}
        assert {t["author_id"] for t in body["data"]} <= users
        seen += len(body["data"])
        if "next_token" not in body["meta"]:
            break
        page = body["meta"]["next_token"]
    assert seen > 100  # more than one page was followed


def test_graph_pages_omit_next_on_the_last_page(demo_data: Path) -> None:
    feed = demo_data / "payloads" / "meta" / "200000000000001" / "feed"
    pages = sorted(feed.glob("*.json"))
    last = [p for p in pages if "next" not in envelope(p)["body"]["paging"]]
    assert len(last) == 1
    assert all(envelope(p)["body"]["paging"]["next"].startswith("{{BASE}}/")
               for p in pages if p not in last)


def test_mastodon_pages_link_with_the_link_header(demo_data: Path) -> None:
    notes = demo_data / "payloads" / "mastodon" / "_as" / "110000000000000002" / "api" / "v1" \
        / "notifications"
    first = envelope(notes / "first.json")
    assert isinstance(first["body"], list)
    assert 'rel="next"' in first["headers"]["Link"]
    statuses = [n["status"] for n in first["body"] if n["type"] == "mention"]
    assert statuses and all(s["content"].startswith("<p>") for s in statuses)


def test_inbox_and_crm_exports_are_files(demo_data: Path) -> None:
    inbox = sorted((demo_data / "payloads" / "inbox").glob("inbox_export_*.csv"))
    assert len(inbox) > 20
    header = inbox[0].read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("message_id,platform,account_id,team,assignee,tags")
    assert (demo_data / "payloads" / "crm" / "contacts.csv").stat().st_size > 0
    assert (demo_data / "payloads" / "crm" / "lifecycle_stages.jsonl").stat().st_size > 0


def recorded_items(payloads: Path) -> dict[str, set[tuple[str, str]]]:
    """Every recorded API item (nested Instagram replies included) and export row, by file
    folder: (id or whole row, its time) pairs, the time cut to whole seconds."""
    import csv

    found: dict[str, set[tuple[str, str]]] = {}

    def add(where: str, key: str, when: str | None) -> None:
        found.setdefault(where, set()).add((key, (when or "")[:19]))

    for path in payloads.rglob("*"):
        if not path.is_file():
            continue
        where = str(path.parent.relative_to(payloads))
        if path.suffix == ".csv":
            with path.open(encoding="utf-8", newline="") as fh:
                for row in csv.DictReader(fh):
                    add(where, json.dumps(row, sort_keys=True),
                        row.get("received_at") or row.get("occurred_at") or row.get("updated_at"))
        elif path.suffix == ".jsonl":
            for row in read_jsonl(path):
                add(where, json.dumps(row, sort_keys=True), row.get("changed_at"))
        else:
            body = envelope(path)["body"]
            items = body if isinstance(body, list) else body.get("data", [body]) \
                if isinstance(body, dict) else []
            for item in items:
                when = next((item[k] for k in ("created_at", "created_time", "timestamp",
                                               "updated_time") if k in item), None)
                if "last_status" in item:
                    when = item["last_status"]["created_at"]
                add(where, str(item.get("id")), when)
                for reply in (item.get("replies") or {}).get("data", []):
                    add(where, str(reply["id"]), reply["timestamp"])
    return found


def test_held_back_days_leave_out_exactly_what_happened_from_the_cut_on(tmp_path: Path
                                                                        ) -> None:
    from ingestion.demo.generator import DEFAULT_END, hold_back_cut

    generate(tmp_path / "full", seed=5, interactions=2000)
    summary = generate(tmp_path / "held", seed=5, interactions=2000, hold_back_days=2)
    cut = f"{hold_back_cut(DEFAULT_END, 2):%Y-%m-%dT%H:%M:%S}"
    full, held = recorded_items(tmp_path / "full" / "payloads"), \
        recorded_items(tmp_path / "held" / "payloads")
    # the same people and stories: the ground truth does not depend on what is held back
    assert tree_digest(tmp_path / "full" / "ground_truth") == \
        tree_digest(tmp_path / "held" / "ground_truth")
    assert summary.interactions >= 2000
    hidden = 0
    for where, items in full.items():
        if where == "crm":
            continue  # contacts' current stage changes with the cut; checked below
        before = {i for i in items if i[1] < cut}
        assert held.get(where, set()) == before, where
        hidden += len(items) - len(before)
    assert hidden > 50  # two days of activity were held back
    stages = {json.loads(k)["changed_at"] for k, _ in held["crm"]
              if k.startswith('{"changed_at"')}
    assert stages and max(stages)[:19] < cut


def test_releasing_every_held_back_day_gives_the_data_set_without_hold_back(tmp_path: Path
                                                                           ) -> None:
    from ingestion.demo.generator import held_back_days, release_day

    generate(tmp_path / "full", seed=5, interactions=2000)
    generate(tmp_path / "held", seed=5, interactions=2000, hold_back_days=2)
    first = recorded_items(tmp_path / "held" / "payloads")
    assert held_back_days(tmp_path / "held") == 2
    cut = release_day(tmp_path / "held")
    assert held_back_days(tmp_path / "held") == 1 and cut is not None
    second = recorded_items(tmp_path / "held" / "payloads")
    grown = [w for w in second if second[w] - first.get(w, set())]
    assert grown and all(first.get(w, set()) <= second[w] for w in second if w != "crm")
    assert release_day(tmp_path / "held") is None
    assert held_back_days(tmp_path / "held") == 0
    assert tree_digest(tmp_path / "held") == tree_digest(tmp_path / "full")
    with pytest.raises(ValueError, match="holds no days back"):
        release_day(tmp_path / "held")


def test_holding_back_the_whole_window_is_refused_with_a_reason(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="hold_back_days must be from 0 to 55"):
        generate(tmp_path, interactions=1000, hold_back_days=56)
