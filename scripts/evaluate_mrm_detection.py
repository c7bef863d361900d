"""Precision and recall of detected MRMs against the demo's ground truth.

Generates a demo data set (or reads one given with --data), serves it on loopback, runs the
real nightly job into a temporary warehouse, and compares marts.fct_mrm / the detection
rules with ground_truth/conversations.jsonl (true_mrm, tags). Prints:

* detection vs truth: precision, recall and F1 overall and per rule;
* tags vs truth, for comparison with what agents achieve;
* agreement between tags and detection over the conversations the brand replied to
  (both / tagged only / detected only / neither, observed agreement, Cohen's kappa).

With --conversation-set it measures the hand-written, labelled EN/DE conversations of
tests/fixtures/mrm_conversations/ instead (README.md there): their recorded Mastodon pages are
served on loopback and `rapport run` runs one night as a new user would (only Mastodon
configured, its own warehouse, serving folder, Dagster instance, salt and the set's seeds via
RAPPORT_SEEDS_DIR); marts.fct_mrm's detected MRMs (mrm_source detected or both, company row)
are compared with labels.jsonl: precision, recall and F1 overall, per language, per category
and per batch (the conversations were written in batches; a later batch is a held-out check of
changes made while looking at the earlier ones), then each conversation detection gets wrong
with its sentiment before the reply and of its closing message. --batch N measures one batch
only (its figures and errors; the night still runs on the whole set).

    .venv/bin/python scripts/evaluate_mrm_detection.py [--interactions 4000] [--seed 7]
    .venv/bin/python scripts/evaluate_mrm_detection.py --data DIR [--warehouse FILE]
    .venv/bin/python scripts/evaluate_mrm_detection.py --conversation-set [DIR] [--warehouse FILE]
        [--batch N]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

CONVERSATION_SET = REPO_ROOT / "tests" / "fixtures" / "mrm_conversations"
NIGHT_TIMEOUT_SECONDS = 1800
RULES = ("sentiment_lift", "unprompted_positive_mention", "hashtag_chat_join",
         "crm_stage_advance", "churn_reversed")


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


# --- the labelled conversation set (tests/fixtures/mrm_conversations) ------------------------


def _mastodon_accounts(seeds: Path) -> list[str]:
    """The set's owned Mastodon account ids, from its owned_accounts seed."""
    with (seeds / "owned_accounts.csv").open(encoding="utf-8", newline="") as handle:
        return [row["account_id"] for row in csv.DictReader(handle)
                if row["platform"] == "mastodon"]


def run_set_night(set_dir: Path, home: Path, warehouse: Path) -> None:
    """Serve the set's pages and run one `rapport run` as a new user would: only Mastodon
    configured, its own folders under ``home``, a salt and the set's seeds."""
    from ingestion.demo.replay import ReplayServer

    dbt_project = REPO_ROOT / "dbt_project"
    accounts = _mastodon_accounts(set_dir / "seeds")
    dagster_home = home / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "dagster_home" / "dagster.yaml", dagster_home / "dagster.yaml")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SOURCES__", "RAPPORT_", "DAGSTER_"))}
    rapport = Path(sys.executable).parent / "rapport"
    with ReplayServer(set_dir / "api") as server:
        env.update({
            "SOURCES__MASTODON__BASE_URL": server.base_url("mastodon"),
            "SOURCES__MASTODON__ACCOUNT_IDS": json.dumps(accounts),
            "SOURCES__MASTODON__ACCESS_TOKENS": json.dumps(
                {a: f"demo-{a}" for a in accounts}),
            "RAPPORT_WAREHOUSE": str(warehouse),
            "RAPPORT_SERVING_DIR": str(home / "serving"),
            "DAGSTER_HOME": str(dagster_home),
            "RAPPORT_CONTACT_KEY_SALT": "mrm-conversation-set-3f9a1c7e5b2d4086a1e9c3b7d5f20468",
            "RAPPORT_SEEDS_DIR": os.path.relpath(set_dir / "seeds", dbt_project),
        })
        run = subprocess.run([str(rapport), "run"], cwd=home, env=env, capture_output=True,
                             text=True, timeout=NIGHT_TIMEOUT_SECONDS)
    if run.returncode != 0:
        print(run.stdout[-4000:], run.stderr[-8000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"`rapport run` on the conversation set failed (rc {run.returncode})")


def evaluate_set(set_dir: Path, warehouse: Path, batch: int | None = None) -> dict:
    """Compare fct_mrm's detected MRMs with the set's labels (those of ``batch`` only, when
    given); returns the figures."""
    import duckdb

    all_labels = [json.loads(line) for line in
                  (set_dir / "labels.jsonl").read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    labels = [r for r in all_labels if batch is None or r.get("batch", 1) == batch]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        detected = {cid: rules for cid, rules in con.execute(
            "select conversation_id, detection_rules from marts.fct_mrm "
            "where team = 'company' and mrm_source in ('detected', 'both')").fetchall()}
        cursor = con.execute(
            "select c.conversation_id, c.is_answered, c.sentiment_before_reply, "
            "s.closing_score, s.closing_lift from marts.fct_conversations as c "
            "left join intermediate.int_conversation_sentiment as s using (conversation_id)")
        conversations = {row[0]: row[1:] for row in cursor.fetchall()}
    finally:
        con.close()

    overall = Confusion()
    per_lang: dict[str, Confusion] = defaultdict(Confusion)
    per_category: dict[str, Confusion] = defaultdict(Confusion)
    per_batch: dict[str, Confusion] = defaultdict(Confusion)
    wrong, missing = [], []
    for label in labels:
        cid, actual = label["conversation_id"], bool(label["is_mrm"])
        if cid not in conversations:
            missing.append(label)
        predicted = cid in detected
        batch_of = label.get("batch", 1)
        for confusion in (overall, per_lang[label["lang"]], per_category[label["category"]],
                          per_batch[f"{batch_of} all"], per_batch[f"{batch_of} {label['lang']}"]):
            confusion.add(predicted, actual)
        if predicted != actual:
            wrong.append((label, conversations.get(cid), detected.get(cid)))
    return {"conversations": len(labels), "true_mrms": sum(bool(r["is_mrm"]) for r in labels),
            "overall": overall, "per_lang": dict(sorted(per_lang.items())),
            "per_category": dict(sorted(per_category.items())),
            "per_batch": dict(sorted(per_batch.items())), "wrong": wrong,
            "missing": missing,
            "unlabelled_detections": sorted(set(detected) - {r["conversation_id"]
                                                             for r in all_labels})}


def _score(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:+.2f}"


def print_set_report(figures: dict) -> None:
    """Print the conversation set's figures: overall, per language, per category, errors."""
    print(f"labelled conversation set: {figures['conversations']} conversations, "
          f"{figures['true_mrms']} true MRMs")
    print(f"{'detected MRMs':36} {'n':>4} {'MRM':>4} {'TP':>4} {'FP':>4} {'FN':>4} "
          f"{'precision':>10} {'recall':>8} {'F1':>8}")
    rows = [("overall", figures["overall"])]
    rows += [(f"  lang {lang}", c) for lang, c in figures["per_lang"].items()]
    rows += [(f"  category {cat}", c) for cat, c in figures["per_category"].items()]
    if len({key.split()[0] for key in figures["per_batch"]}) > 1:
        rows += [(f"  batch {key}", c) for key, c in figures["per_batch"].items()]
    for name, c in rows:
        n = c.tp + c.fp + c.fn + c.tn
        print(f"{name:36} {n:4} {c.tp + c.fn:4} {c.tp:4} {c.fp:4} {c.fn:4} "
              f"{_fmt(c.precision):>10} {_fmt(c.recall):>8} {_fmt(c.f1):>8}")
    if figures["wrong"]:
        print("wrong (FN = a labelled MRM not detected, FP = detected but not an MRM); "
              "sentiment before the reply -> of the closing message (the rule's end state):")
    for label, conversation, rules in figures["wrong"]:
        kind = "FP" if rules else "FN"
        before, end = (conversation[1], conversation[2]) if conversation else (None, None)
        print(f"  {kind} {label['lang']} {label['key']:40} {label['category']:26} "
              f"{_score(before)} -> {_score(end)}" + (f"  [{rules}]" if rules else ""))
    for label in figures["missing"]:
        print(f"  MISSING from fct_conversations: {label['conversation_id']} ({label['key']})")
    if figures["unlabelled_detections"]:
        print(f"  detected but not labelled: {', '.join(figures['unlabelled_detections'])}")


def main(argv: list[str] | None = None) -> int:
    """Generate or read demo data, run the nightly job, print the evaluation."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="existing demo data dir (generator output)")
    parser.add_argument("--interactions", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warehouse", type=Path,
                        help="warehouse file to build (default: a temporary one)")
    parser.add_argument("--conversation-set", type=Path, nargs="?", const=CONVERSATION_SET,
                        metavar="DIR",
                        help="evaluate on the labelled conversation set instead of the demo "
                             f"(default DIR: {CONVERSATION_SET.relative_to(REPO_ROOT)})")
    parser.add_argument("--batch", type=int,
                        help="with --conversation-set: measure only this batch of the set")
    args = parser.parse_args(argv)

    if args.conversation_set is not None:
        set_dir = args.conversation_set.resolve()
        with tempfile.TemporaryDirectory(prefix="rapport-mrm-set-") as scratch:
            warehouse = (args.warehouse.resolve() if args.warehouse
                         else Path(scratch) / "warehouse" / "rapport.duckdb")
            warehouse.parent.mkdir(parents=True, exist_ok=True)
            run_set_night(set_dir, Path(scratch), warehouse)
            print_set_report(evaluate_set(set_dir, warehouse, args.batch))
        return 0

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
