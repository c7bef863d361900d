"""Screening never crashes a night: whatever a platform sends in a field the rules name, each
item of a page either loads or is quarantined with a reason, and the loaded ones become an
Arrow table.

Every recorded page in the test fixtures and the bad-input corpus is screened under every
resource's rules with one item broken at each rule's field in turn (wrong types, blanks,
impossible or future times, over-long text, lone surrogates, ...).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from pathlib import Path

import pytest

from ingestion.sources.arrow import page_table
from ingestion.sources.mastodon import settings as mastodon_settings
from ingestion.sources.meta import settings as meta_settings
from ingestion.sources.validation import MAX_TEXT_CHARS, ItemRules, path_value, screen
from ingestion.sources.x import settings as x_settings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
RULES = {f"{module.__name__.split('.')[-2]}.{name}": value
         for module in (x_settings, meta_settings, mastodon_settings)
         for name, value in vars(module).items() if isinstance(value, ItemRules)}
BROKEN_VALUES = [None, "", "  ", "\x1c", 12345, 2**70, True, 1.5, float("nan"), float("inf"),
                 {"a": 1}, ["x"], [], "not a time", "2999-01-01T00:00:00Z",
                 "1999-12-31T23:59:59Z", "2026-09-01T10:00:00", "2026-02-30T10:00:00Z",
                 "x" * (MAX_TEXT_CHARS + 1), "\ud800"]


def _item_lists(value: object) -> list[list]:
    """Every list of JSON objects in a recorded page file (the pages' item lists)."""
    found = []
    if isinstance(value, list):
        if value and all(isinstance(v, dict) for v in value) and not all(
                "status" in v and "body" in v for v in value):
            found.append(value)
        for child in value:
            found += _item_lists(child)
    elif isinstance(value, dict):
        for child in value.values():
            found += _item_lists(child)
    return found


def _pages() -> list[list]:
    pages = []
    for path in sorted(FIXTURES.rglob("*.json")):
        try:
            pages += _item_lists(json.loads(path.read_text(encoding="utf-8")))
        except ValueError:
            continue  # a deliberately truncated body
    return pages


PAGES = _pages()


def _broken(item: dict, path: str, value: object) -> dict:
    item = copy.deepcopy(item)
    *parents, last = path.split(".")
    target = item
    for part in parents:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[last] = value
    return item


@pytest.mark.parametrize("name", sorted(RULES))
def test_any_value_in_a_ruled_field_is_loaded_or_quarantined_never_a_crash(name: str) -> None:
    rules = RULES[name]
    fields = sorted({*rules.keys, *rules.refs, *rules.times, *rules.optional_times,
                     *rules.texts, *rules.numbers, *rules.objects, *rules.versions})
    # the pages of this resource: those whose first item has the resource's keys
    pages = [p for p in PAGES if all(path_value(p[0], k) is not None for k in rules.keys)]
    assert pages, f"no fixture page for {name}"
    quarantined = 0
    for page in pages:
        for field in fields:
            for value in BROKEN_VALUES:
                items = [_broken(page[0], field, value), *page[1:]]
                good, bad = screen(items, rules, "/endpoint", Counter())
                assert len(good) + len(bad) == len(items)
                assert all(row["reason"] and row["raw_json"] for row in bad)
                quarantined += len(bad)
                if good:
                    assert page_table(good).num_rows == len(good)
    assert quarantined > 0
