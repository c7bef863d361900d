"""dim_contacts on demo data: the people the generator scripted land in their segment."""

from __future__ import annotations

import csv
import hashlib
import os
from collections import Counter

from ingestion.settings import REPO_ROOT
from tests.conftest import DemoRun

SEGMENTS = ("advocate", "punk", "panicked", "observer")
# Floors measured on the demo data set of tests/conftest.py (seed 7, 4000 interactions) with
# some slack for the sentiment scorer; docs/community.md has the full confusion table.
RECALL_FLOORS = {"advocate": 0.8, "punk": 0.55, "panicked": 0.85, "observer": 0.9}
PRECISION_FLOOR = 0.85


def demo_contact_key(platform: str, user_id: str) -> str:
    """The contact_key macro's value (DuckDB: md5 of salt:platform:id) for a demo person."""
    salt = os.environ.get("RAPPORT_CONTACT_KEY_SALT", "rapport-demo")
    return hashlib.md5(f"{salt}:{platform}:{user_id}".encode()).hexdigest()


def person_segments(run: DemoRun) -> list[tuple[dict, str]]:
    """Each scripted person with the segment dim_contacts gives them.

    A person has one identity per platform; the person's segment is that of their most
    involved identity that has one (an identity with too little evidence is unsegmented,
    which does not contradict a segment found elsewhere).
    """
    rows = run.query(
        "select contact_key, segment, involvement_score, interactions from marts.dim_contacts")
    by_key = {key: (segment, score, n) for key, segment, score, n in rows}
    result = []
    for person in run.contacts:
        found = [by_key[k] for k in (demo_contact_key(p, i) for p, i in person["ids"].items())
                 if k in by_key]
        named = [f for f in found if f[0] != "unsegmented"] or found
        segment = max(named, key=lambda f: (f[1], f[2]))[0] if named else "absent"
        result.append((person, segment))
    return result


def confusion(run: DemoRun) -> Counter:
    """(intended story, assigned segment) -> people."""
    return Counter((person["story"], segment) for person, segment in person_segments(run))


def print_confusion(table: Counter) -> None:
    columns = [*SEGMENTS, "unsegmented", "absent"]
    print("\nstory".ljust(17) + "".join(c.rjust(12) for c in columns))
    for story in sorted({s for s, _ in table}):
        print(story.ljust(16) + "".join(str(table[(story, c)]).rjust(12) for c in columns))


def test_intended_segment_members_mostly_land_in_their_segment(demo_run: DemoRun) -> None:
    table = confusion(demo_run)
    print_confusion(table)
    for segment, floor in RECALL_FLOORS.items():
        intended = sum(n for (story, _), n in table.items() if story == segment)
        assert intended > 0, f"the demo has no {segment}s"
        recall = table[(segment, segment)] / intended
        assert recall >= floor, f"{segment}: {recall:.2f} of intended people found (< {floor})"


def test_a_named_segment_is_mostly_right(demo_run: DemoRun) -> None:
    table = confusion(demo_run)
    for segment in SEGMENTS:
        assigned = sum(n for (_, seg), n in table.items() if seg == segment)
        assert assigned > 0, f"nobody was segmented {segment}"
        precision = table[(segment, segment)] / assigned
        assert precision >= PRECISION_FLOOR, f"{segment}: precision {precision:.2f}"


def test_ambassador_candidates_are_advocates_with_reach(demo_run: DemoRun) -> None:
    rows = demo_run.query(
        "select contact_key, is_ambassador_candidate from marts.dim_contacts")
    flagged = {key for key, flag in rows if flag}
    candidates, reach_advocates = set(), set()
    for person in demo_run.contacts:
        keys = {demo_contact_key(p, i) for p, i in person["ids"].items()}
        if keys & flagged:
            candidates.add(person["person"])
        if person["story"] == "advocate" and person["followers"] >= 1000:
            reach_advocates.add(person["person"])
    assert reach_advocates, "the demo has no advocates with reach"
    assert candidates <= reach_advocates
    assert len(candidates) >= 0.8 * len(reach_advocates)


def test_dim_contacts_holds_no_handles_or_platform_ids(demo_run: DemoRun) -> None:
    ids = {i for person in demo_run.contacts for i in person["ids"].values()}
    rows = demo_run.query("select * from marts.dim_contacts")
    assert rows
    values = {str(v) for row in rows for v in row if v is not None}
    assert not values & ids
    handles = [r[0] for r in demo_run.query(
        "select distinct author_username from staging.stg_x__mentions "
        "where author_username is not null")]
    assert handles and not values & set(handles)


def test_segment_thresholds_are_documented_vars() -> None:
    # the rules read vars, never literals: every var dim_contacts uses is set in dbt_project.yml
    sql = (REPO_ROOT / "dbt_project" / "models" / "marts" / "dim_contacts.sql").read_text()
    project = (REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text()
    used = {part.split("'")[1] for part in sql.split("var(")[1:]}
    assert used and all(f"\n  {name}:" in project for name in used)
    with (REPO_ROOT / "dbt_project" / "seeds" / "interaction_weights.csv").open() as fh:
        weights = {row["interaction_type"]: float(row["weight"]) for row in csv.DictReader(fh)}
    assert weights["dm"] > weights["favourite"] and weights["comment"] > weights["favourite"]
