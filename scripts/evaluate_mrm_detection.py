"""Precision and recall of detected MRMs against the demo's ground truth.

Generates a demo data set (or reads one given with --data), serves it on loopback, runs the
real nightly job into a temporary warehouse, and compares marts.fct_mrm / the detection
rules with ground_truth/conversations.jsonl (true_mrm, tags). Prints:

* detection vs truth: precision, recall and F1 overall and per rule;
* tags vs truth, for comparison with what agents achieve;
* agreement between tags and detection over the conversations the brand replied to
  (both / tagged only / detected only / neither, observed agreement, Cohen's kappa).

    .venv/bin/python scripts/evaluate_mrm_detection.py [--interactions 4000] [--seed 7]
    .venv/bin/python scripts/evaluate_mrm_detection.py --data DIR [--warehouse FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

RULES = ("sentiment_lift", "unprompted_positive_mention", "hashtag_chat_join",
         "crm_stage_advance")


@dataclass
class Confusion:
    """Counts of a binary classifier against the truth."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, predicted: bool, actual: bool) -> None:
        """Count one case."""
        if predicted and actual:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif actual:
            self.fn += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p and r else None


def cohens_kappa(both: int, only_a: int, only_b: int, neither: int) -> float | None:
    """Cohen's kappa of two binary raters from their 2x2 table; None if undefined."""
    n = both + only_a + only_b + neither
    if n == 0:
        return None
    observed = (both + neither) / n
    a_yes, b_yes = (both + only_a) / n, (both + only_b) / n
    expected = a_yes * b_yes + (1 - a_yes) * (1 - b_yes)
    return None if expected == 1 else (observed - expected) / (1 - expected)


def run_nightly_into(data_dir: Path, warehouse: Path) -> None:
    """Serve data_dir's payloads on 127.0.0.1 and run the nightly job into warehouse."""
    from ingestion.demo.config import demo_environment
    from ingestion.demo.replay import ReplayServer
    from orchestration.cli import run_nightly

    payloads = data_dir / "payloads"
    saved = dict(os.environ)
    try:
        with ReplayServer(payloads) as server:
            os.environ.update(demo_environment(payloads, server.url))
            os.environ["RAPPORT_WAREHOUSE"] = str(warehouse)
            os.environ.pop("DAGSTER_HOME", None)
            if not run_nightly():
                raise SystemExit("the nightly job failed; see the log above")
    finally:
        os.environ.clear()
        os.environ.update(saved)


def evaluate(data_dir: Path, warehouse: Path) -> dict:
    """Compare the warehouse's MRMs with the ground truth; returns the figures."""
    import duckdb

    truth = [json.loads(line) for line in
             (data_dir / "ground_truth" / "conversations.jsonl").read_text().splitlines()
             if line.strip()]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        rules_by_conversation: dict[str, set[str]] = defaultdict(set)
        for conversation_id, rule in con.execute(
                "select conversation_id, rule from intermediate.int_mrm_detections").fetchall():
            rules_by_conversation[conversation_id].add(rule)
        sources = dict(con.execute(
            "select conversation_id, mrm_source from marts.fct_mrm "
            "where team = 'company'").fetchall())
        answered = {row[0] for row in con.execute(
            "select conversation_id from marts.fct_conversations where is_answered").fetchall()}
    finally:
        con.close()

    detection, tags = Confusion(), Confusion()
    per_rule = {rule: Confusion() for rule in RULES}
    agreement = {"both": 0, "tagged_only": 0, "detected_only": 0, "neither": 0}
    for conversation in truth:
        cid = f"{conversation['platform']}:{conversation['first_message_id']}"
        actual = bool(conversation["true_mrm"])
        source = sources.get(cid)
        detected = source in ("detected", "both")
        tagged = source in ("tagged", "both")
        detection.add(detected, actual)
        tags.add(tagged, actual)
        for rule in RULES:
            per_rule[rule].add(rule in rules_by_conversation.get(cid, ()), actual)
        if cid in answered:
            key = ("both" if tagged and detected else "tagged_only" if tagged
                   else "detected_only" if detected else "neither")
            agreement[key] += 1
    replied = sum(agreement.values())
    return {
        "conversations": len(truth),
        "true_mrms": sum(bool(c["true_mrm"]) for c in truth),
        "detection": detection,
        "per_rule": per_rule,
        "tags": tags,
        "agreement": agreement,
        "observed_agreement": (agreement["both"] + agreement["neither"]) / replied
        if replied else None,
        "kappa": cohens_kappa(agreement["both"], agreement["tagged_only"],
                              agreement["detected_only"], agreement["neither"]),
    }


def _fmt(value: float | None) -> str:
    return "   n/a" if value is None else f"{value:6.3f}"


def print_report(figures: dict) -> None:
    """Print the figures as the plain table docs/metrics.md quotes."""
    print(f"conversations: {figures['conversations']}, true MRMs: {figures['true_mrms']}")
    print(f"{'':36} {'TP':>5} {'FP':>5} {'FN':>5} {'precision':>10} {'recall':>8} {'F1':>8}")
    rows = [("detected (any rule)", figures["detection"])]
    rows += [(f"  rule {rule}", c) for rule, c in figures["per_rule"].items()]
    rows += [("tagged by agents", figures["tags"])]
    for name, c in rows:
        print(f"{name:36} {c.tp:5} {c.fp:5} {c.fn:5} {_fmt(c.precision):>10} "
              f"{_fmt(c.recall):>8} {_fmt(c.f1):>8}")
    a = figures["agreement"]
    print("tags vs detection over conversations with a brand reply: "
          f"both {a['both']}, tagged only {a['tagged_only']}, detected only "
          f"{a['detected_only']}, neither {a['neither']}; observed agreement "
          f"{_fmt(figures['observed_agreement']).strip()}, Cohen's kappa "
          f"{_fmt(figures['kappa']).strip()}")


def main(argv: list[str] | None = None) -> int:
    """Generate or read demo data, run the nightly job, print the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="existing demo data dir (generator output)")
    parser.add_argument("--interactions", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warehouse", type=Path,
                        help="warehouse file to build (default: a temporary one)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="rapport-mrm-eval-") as scratch:
        data_dir = args.data
        if data_dir is None:
            from ingestion.demo.generator import generate

            data_dir = Path(scratch) / "demo"
            generate(data_dir, seed=args.seed, interactions=args.interactions)
        warehouse = args.warehouse or Path(scratch) / "rapport.duckdb"
        run_nightly_into(data_dir, warehouse)
        print_report(evaluate(data_dir, warehouse))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
