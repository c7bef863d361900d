"""Labelled sentiment data sets: the readers the accuracy benchmark and the trainer share.

Formats:

- ``<prefix>text.txt`` with ``<prefix>labels.txt`` beside it, one text and one label per line,
  0 negative / 1 neutral / 2 positive (TweetEval sentiment, the UMSAB splits of
  cardiffnlp/xlm-t: SemEval-2017 English, SB10k German);
- a GermEval-2017 ``*_df_opinion.tsv`` (ac74/reevaluating_germeval2017): one row per aspect,
  deduplicated to one per document ``id``, whose ``sentiment`` column is the document's
  polarity toward Deutsche Bahn;
- a plain ``.tsv`` of ``label<TAB>text`` lines, label one of negative / neutral / positive.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from analytics.sentiment_model import LABELS  # noqa: F401  (re-exported for the readers)

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
        elif file.suffix == ".tsv" and not file.name.endswith("_df_opinion.tsv"):
            found.append(read_labelled_tsv(file, guessed))
        elif not path.is_dir():
            raise SystemExit(f"{file}: neither <prefix>text.txt, a GermEval *_df_opinion.tsv "
                             "nor a label<TAB>text .tsv")
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


def read_labelled_tsv(tsv: Path, lang: str) -> DataSet:
    """A ``label<TAB>text`` file."""
    texts, gold = [], []
    for number, line in enumerate(_lines(tsv), start=1):
        label, tab, text = line.partition("\t")
        if not tab or label not in LABELS:
            raise SystemExit(f"{tsv}:{number}: not a '<negative|neutral|positive><TAB>text' line")
        texts.append(text)
        gold.append(label)
    return DataSet(f"{tsv.parent.name}/{tsv.stem}", lang, texts, gold)


_KEY_LINKS = re.compile(r"https?://\S+|www\.\S+|@\w+|\brt\b")
_KEY_NOISE = re.compile(r"[^\w]+")


def text_key(text: str) -> str:
    """What two copies of one post share: lower case, NFKC, ß as ss, without links, @handles,
    "RT" and anything but letters and digits (tokenised and raw copies of a tweet agree)."""
    folded = unicodedata.normalize("NFKC", text).lower().replace("ß", "ss")
    # links and handles first: in one pass "[^\w]+" would eat the " @" before a handle and
    # leave its name in the key
    return _KEY_NOISE.sub("", _KEY_LINKS.sub(" ", folded))
