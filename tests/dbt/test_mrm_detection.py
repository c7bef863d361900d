"""Detected MRMs and conversation sentiment on the demo run, against its ground truth; and the
agreement statistics of scripts/evaluate_mrm_detection.py."""

from __future__ import annotations

import importlib.util
import sys

import pytest

from ingestion.settings import REPO_ROOT
from tests.conftest import DemoRun


def _load_script():
    path = REPO_ROOT / "scripts" / "evaluate_mrm_detection.py"
    spec = importlib.util.spec_from_file_location("evaluate_mrm_detection", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


evaluation = _load_script()


def test_detected_mrms_find_most_true_mrms_with_few_false_alarms(demo_run: DemoRun) -> None:
    figures = evaluation.evaluate(demo_run.data_dir, demo_run.warehouse)
    detection = figures["detection"]
    assert figures["true_mrms"] > 0
    assert detection.recall >= 0.8
    assert detection.precision >= 0.8


def test_complaints_turned_fans_lift_and_resolve_while_ignored_ones_do_not(
        demo_run: DemoRun) -> None:
    rows = demo_run.query(
        "select conversation_id, sentiment_before_reply, sentiment_lift, is_resolved "
        "from marts.fct_conversations")
    by_id = {row[0]: row[1:] for row in rows}
    fans = [by_id[f"{c['platform']}:{c['first_message_id']}"] for c in demo_run.conversations
            if c["story"] == "complaint_turned_fan"]
    ignored = [by_id[f"{c['platform']}:{c['first_message_id']}"]
               for c in demo_run.conversations if c["story"] == "complaint_left_to_rot"]
    assert fans and ignored
    assert all(lift is not None and lift > 0 and resolved for _, lift, resolved in fans)
    assert all(lift is None and not resolved for _, lift, resolved in ignored)
    assert sum(before < 0 for before, _, _ in ignored) / len(ignored) >= 0.8


def test_every_message_has_a_sentiment_row(demo_run: DemoRun) -> None:
    (missing,) = demo_run.query(
        "select count(*) from intermediate.int_messages m "
        "left join intermediate.int_message_sentiment s using (message_key) "
        "where s.message_key is null")[0]
    assert missing == 0


def test_mart_counts_each_mrm_once_whether_tagged_detected_or_both(demo_run: DemoRun) -> None:
    (bad_rows,) = demo_run.query(
        "select count(*) from marts.mart_mrm_daily "
        "where mrms <> tagged_mrms + detected_mrms - tagged_and_detected_mrms")[0]
    assert bad_rows == 0


@pytest.mark.parametrize(
    ("table", "kappa"),
    [((10, 0, 0, 10), 1.0), ((5, 5, 5, 5), 0.0), ((0, 10, 10, 0), -1.0)],
)
def test_cohens_kappa_is_one_for_agreement_zero_for_chance_minus_one_for_opposition(
        table, kappa) -> None:
    assert evaluation.cohens_kappa(*table) == pytest.approx(kappa)


def test_precision_and_recall_count_hits_misses_and_false_alarms() -> None:
    confusion = evaluation.Confusion()
    for predicted, actual in [(True, True), (True, False), (False, True), (False, True),
                              (False, False)]:
        confusion.add(predicted, actual)
    assert confusion.precision == pytest.approx(0.5)
    assert confusion.recall == pytest.approx(1 / 3)
