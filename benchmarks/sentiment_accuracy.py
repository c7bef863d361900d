"""Accuracy and speed of the warehouse's sentiment scorer on labelled public data sets.

    .venv/bin/python benchmarks/sentiment_accuracy.py [--detect] [--repeat N] [LANG=]PATH...

Each PATH is one labelled data set, or a folder whose data sets are all read:

- ``<prefix>text.txt`` with ``<prefix>labels.txt`` beside it, one tweet and one label per
  line, 0 negative / 1 neutral / 2 positive (TweetEval sentiment and the UMSAB splits of
  cardiffnlp/xlm-t: SemEval-2017 English, SB10k German);
- a GermEval-2017 ``*_df_opinion.tsv`` (ac74/reevaluating_germeval2017): one row per aspect,
  deduplicated here to one per document ``id``, whose ``sentiment`` column is the document's
  polarity toward Deutsche Bahn.

A data set's language is ``LANG=`` when given, else German for GermEval and for paths that name
SB10k, German or ``de_``, else English. It reaches the scorer as the platform's language field
does in the warehouse (X sends ``lang`` with every tweet); ``--detect`` leaves it out, so the
scorer detects the language as it does for messages without one.

Scoring is analytics.sentiment.score_message with the project's settings (dbt vars and the
overrides seed, as int_message_sentiment gets them). Per data set it prints macro-F1 over the
three labels, macro-recall (TweetEval's official figure), accuracy and the accuracy of always
answering the commonest label, then messages/s of scoring on one thread (the fastest of
``--repeat`` passes; the first call's lexicon loading is not counted). See docs/metrics.md
for the public test splits, where to get them and today's figures.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from analytics.sentiment import project_settings, score_message

LABELS = ("negative", "neutral", "positive")
# TweetEval's mapping.txt and the UMSAB splits number the labels alike.
LABEL_NUMBERS = {"0": "negative", "1": "neutral", "2": "positive"}
GERMAN_HINTS = ("sb10k", "german", "germeval", "de_")


@dataclass
class DataSet:
    """Texts with their gold labels and the language handed to the scorer."""

    name: str
    lang: str
    texts: list[str]
    gold: list[str]


def _lines(path: Path) -> list[str]:
    # split on "\n" only: str.splitlines also splits inside tweets at U+2028, U+0085...
    lines = path.read_text(encoding="utf-8").split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def read_text_and_labels(text_file: Path, lang: str) -> DataSet:
    """A ``<prefix>text.txt`` / ``<prefix>labels.txt`` pair."""
    prefix = text_file.name[: -len("text.txt")]
    texts = _lines(text_file)
    gold = [LABEL_NUMBERS[label.strip()] for label in _lines(text_file.with_name(
        f"{prefix}labels.txt"))]
    if len(texts) != len(gold):
        raise SystemExit(f"{text_file}: {len(texts)} texts but {len(gold)} labels")
    return DataSet(f"{text_file.parent.name}/{prefix.rstrip('_') or text_file.stem}", lang,
                   texts, gold)


def read_germeval(tsv: Path, lang: str) -> DataSet:
    """A GermEval-2017 opinion TSV, one row per document ``id`` (its aspects dropped)."""
    csv.field_size_limit(sys.maxsize)
    documents: dict[str, tuple[str, str]] = {}
    with tsv.open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows, delimiter="\t", quoting=csv.QUOTE_NONE):
            document = (row["text"], row["sentiment"])
            if documents.setdefault(row["id"], document) != document:
                raise SystemExit(f"{tsv}: document {row['id']} has two texts or sentiments")
    return DataSet(f"{tsv.parent.name}/{tsv.stem}", lang,
                   [text for text, _ in documents.values()],
                   [sentiment for _, sentiment in documents.values()])


def read_data_sets(argument: str) -> list[DataSet]:
    """The data sets an argument names: a file, or every data set file in a folder."""
    lang, given, name = argument.partition("=")
    if not (given and lang.isalpha() and len(lang) == 2):
        lang, name = "", argument
    path = Path(name)
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    found = []
    for file in files:
        guessed = lang or ("de" if any(h in str(file).lower() for h in GERMAN_HINTS) else "en")
        if file.name.endswith("text.txt"):
            found.append(read_text_and_labels(file, guessed))
        elif file.name.endswith("_df_opinion.tsv"):
            found.append(read_germeval(file, lang or "de"))
        elif not path.is_dir():
            raise SystemExit(f"{file}: neither <prefix>text.txt nor a GermEval *_df_opinion.tsv")
    if not found:
        raise SystemExit(f"{path}: no data set in it")
    return found


def macro_scores(gold: list[str], predicted: list[str]) -> tuple[float, float, float]:
    """Macro-F1 and macro-recall over LABELS, and accuracy."""
    f1s, recalls = [], []
    for label in LABELS:
        hits = sum(g == p == label for g, p in zip(gold, predicted, strict=True))
        gold_n, predicted_n = gold.count(label), predicted.count(label)
        precision = hits / predicted_n if predicted_n else 0.0
        recall = hits / gold_n if gold_n else 0.0
        f1s.append(2 * precision * recall / (precision + recall) if hits else 0.0)
        recalls.append(recall)
    accuracy = sum(g == p for g, p in zip(gold, predicted, strict=True)) / len(gold)
    return sum(f1s) / len(LABELS), sum(recalls) / len(LABELS), accuracy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="[LANG=]PATH")
    parser.add_argument("--detect", action="store_true",
                        help="give the scorer no language: it detects it, as for messages "
                             "whose platform names none")
    parser.add_argument("--repeat", type=int, default=1,
                        help="scoring passes per data set for msg/s (the fastest counts)")
    args = parser.parse_args(argv)
    data_sets = [data_set for argument in args.paths for data_set in read_data_sets(argument)]
    settings = project_settings()
    for lang in ("en", "de"):  # load the lexicons and the language model before timing
        score_message("warm up", lang, settings)
        score_message("warm up", None, settings)

    print(f"{'data set':<48} {'lang':>6} {'n':>6} {'macro-F1':>8} {'m-recall':>8} "
          f"{'accuracy':>8} {'majority':>8} {'msg/s':>8}")
    total_n = total_seconds = 0.0
    for data_set in data_sets:
        platform_lang = None if args.detect else data_set.lang
        fastest = float("inf")
        for _ in range(max(args.repeat, 1)):
            started = time.perf_counter()
            # a text with nothing to score (empty) has no label: it counts as neutral
            predicted = [score_message(text, platform_lang, settings).label or "neutral"
                         for text in data_set.texts]
            fastest = min(fastest, time.perf_counter() - started)
        f1, recall, accuracy = macro_scores(data_set.gold, predicted)
        majority = Counter(data_set.gold).most_common(1)[0][1] / len(data_set.gold)
        n = len(data_set.texts)
        total_n, total_seconds = total_n + n, total_seconds + fastest
        print(f"{data_set.name:<48} {platform_lang or 'detect':>6} {n:>6,} {f1:>8.3f} "
              f"{recall:>8.3f} {accuracy:>8.3f} {majority:>8.3f} {n / fastest:>8,.0f}")
    print(f"all: {total_n:,.0f} messages, {total_n / total_seconds:,.0f} msg/s on one thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
