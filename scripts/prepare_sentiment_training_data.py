"""Rebuild the extra sentiment training files that scripts/train_sentiment_model.py reads.

WHERE TO GET THE SOURCES. Each file is built from public GitHub repositories, each read at the
commit pinned here (GitHub owner/name, then commit):

    cbaziotis/datastories-semeval2017-task4
        faeee5fd1c2cf38e32179a4676dff53ae01adfa8
    florianfricke/Bachelor_Thesis_Sentiment_Analyse
        05d5582d6659173757cfd50c253f0f51db10b81a
    oliverguhr/german-sentiment
        7057d46cc173cfd93023955306cd1bd56e60b225
    joemzhao/tweets-retriever
        03636bf528ffe70decb989ae9b0d03b708ab6e0c
    Helsinki-NLP/XED
        76666d251f147cf518071bef4f8415dab6b96115
    NilsHellwig/Twitter_German_Federal_Election_Perception_2021
        19e1a3bde299da574dac2d7b15108cbb669fa94f
    spence998/Tweet-Sentiment-Predictor
        16cc7c7d85ad379e93fab0fe4d4fa4f09d35604d
    JULIELab/EmoBank
        248ce2a43e165a66d31aeaed83cff9641d6654e0

Clone each from GitHub into DIR/<owner>+<name>, bare or with a work tree (DIR/<owner>+<name>/repo
is accepted too), with its pinned commit in the clone, e.g.

    git clone --bare https://github.com/oliverguhr/german-sentiment DIR/oliverguhr+german-sentiment

Then

    .venv/bin/python scripts/prepare_sentiment_training_data.py --repos DIR
        [--out warehouse/sentiment_data/extra] [--tests warehouse/sentiment_data]
        [--dev ../shared/data/sentiment] [--only FILE ...] [--at REV]

writes into --out the ``label<TAB>text`` files (label negative, neutral or positive) that
DATA_SETS in scripts/train_sentiment_model.py takes from the "extra" folder. That folder is
git-ignored: never commit or ship the texts. docs/sentiment-model.md has the licences.
Files, sources (at the commits above) and label mapping:

semeval2013_2016_en.tsv (en): datastories-semeval2017-task4
    dataset/Subtask_A/downloaded/twitter-201{3,4,5,6}*-A.tsv except twitter-2016test-A.tsv
    (the 2017 test and gold files are not read); labels as given; \\uXXXX escapes decoded,
    CSV-quoted texts unquoted.
semeval2016_test_en.tsv (en): the same repository's twitter-2016test-A.tsv, on its own: the
    trainer's --temporal-dev holds it out as a later-year dev set (see train_sentiment_model.py).
tse_tweets_en.tsv (en): Tweet-Sentiment-Predictor tweet-sentiment-extraction/{train,test}.csv
    (Kaggle "Tweet Sentiment Extraction", Figure Eight tweets of 2009, CC BY 4.0): text and
    sentiment columns as given.
emobank_en.tsv (en): EmoBank corpus/emobank.csv (news, blogs, letters, fiction; CC BY-SA 4.0):
    mean valence V (1..5) <= 2.6 negative, 2.9..3.1 neutral, >= 3.4 positive, others dropped.
sb10k_full_minus_test.tsv (de): Bachelor_Thesis_Sentiment_Analyse
    data/labeled_sentiment_data/sb10k_corpus.tsv (original tweets, "Not Available" where
    deleted) joined on the tweet id with german-sentiment
    source-data/SB10k/not-preprocessed/{train,dev,test}/*.tsv (tokenised tweets): the original
    text where there is one, else the tokenised one; labels as given.
potts.tsv (de): german-sentiment source-data/PotTS/not-preprocessed/train/<n>.<topic>.tsv and
    dev/dev.tsv (not test/; the one train tweet also in test/ is left out); 'mixed' dropped.
mozetic2016_de_posneg.tsv (de): tweets-retriever retrieved_dataset/deu.txt (id, Positive or
    Negative, a backslash and the tweet; a line without an id continues the tweet before).
xed_de_projected.tsv (de): XED Projections/de-projections.tsv: only anticipation, joy or trust
    -> positive, only anger, disgust, fear or sadness -> negative, other mixes dropped (and the
    file's raw alignment lines, which have no emotion column).
guhr_emotions.tsv (de): german-sentiment source-data/emotions.txt (__label__<label> <text>).
schmidt2022_german_politicians_train.tsv (de): Twitter_German_Federal_Election_Perception_2021
    Datasets/Schmidt2022/train.csv: 1 positive, 2 negative, 3 neutral; the reply, retweet and
    like counts the scrape appended to each text are stripped.
hellwig2023_election2021_party_tweets.tsv (de): same repository,
    Datasets/annotations_matched_filtered.csv; labels as given.
omp_one_million_posts_sentiment.tsv (de): Bachelor_Thesis_Sentiment_Analyse
    data/labeled_sentiment_data/million_pos_corpus.tsv; labels as given, quoted posts unquoted.

Every text is normalised: tabs, line breaks and runs of white space become one space, trimmed.
A row is then dropped, and counted under the first reason that applies, if

- its label maps to none of the three (PotTS 'mixed', XED mixes), or it has no text;
- it matches a text of a public test split in --tests (tweeteval_sentiment_test_text.txt,
  sb10k_umsab_test_text.txt, germeval2017_test_syn_df_opinion.tsv and, if present,
  germeval2017_test_dia_df_opinion.tsv): equal keys, or for keys of 25+ characters one
  contained in the other. Texts are compared under two keys: analytics.labelled_data.text_key
  (what the trainer excludes by) and strict_key below, the one SOURCES_extra.md describes, which
  also drops HTML entities, underscores and every @handle;
- (German sets) it is a near-duplicate of an SB10k test tweet: Jaccard similarity >= 0.5 of
  the strict keys' character 5-gram sets (keys of 10+ characters);
- its key equals one of a dev split in --dev for its language (English: TweetEval val and
  UMSAB English val; German: UMSAB German val), so that those stay held out;
- it repeats an earlier row (same label and normalised text).

For each file it prints the rows read from the source (rows in), the rows written and the rows
dropped per reason (in = written + dropped). A missing repository, commit or file is reported
and its data sets skipped (any earlier output file is left as it was). ``--at REV`` reads every
repository at REV (e.g. HEAD) instead of its pinned commit: for tests and for looking at a newer
upstream version, never for the files the shipped models are trained on.
"""

from __future__ import annotations

import argparse
import csv
import html
import io
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.labelled_data import LABELS, read_data_sets, text_key  # noqa: E402

SEMEVAL = "cbaziotis/datastories-semeval2017-task4"
FRICKE = "florianfricke/Bachelor_Thesis_Sentiment_Analyse"
GUHR = "oliverguhr/german-sentiment"
MOZETIC = "joemzhao/tweets-retriever"
XED = "Helsinki-NLP/XED"
HELLWIG = "NilsHellwig/Twitter_German_Federal_Election_Perception_2021"
TSE = "spence998/Tweet-Sentiment-Predictor"
EMOBANK = "JULIELab/EmoBank"
PINNED = {
    SEMEVAL: "faeee5fd1c2cf38e32179a4676dff53ae01adfa8",
    FRICKE: "05d5582d6659173757cfd50c253f0f51db10b81a",
    GUHR: "7057d46cc173cfd93023955306cd1bd56e60b225",
    MOZETIC: "03636bf528ffe70decb989ae9b0d03b708ab6e0c",
    XED: "76666d251f147cf518071bef4f8415dab6b96115",
    HELLWIG: "19e1a3bde299da574dac2d7b15108cbb669fa94f",
    TSE: "16cc7c7d85ad379e93fab0fe4d4fa4f09d35604d",
    EMOBANK: "248ce2a43e165a66d31aeaed83cff9641d6654e0",
}

# The public test splits (in --tests) no training row may match.
TEST_FILES = {
    "tweeteval_test": "tweeteval_sentiment_test_text.txt",
    "sb10k_test": "sb10k_umsab_test_text.txt",
    "germeval_test_syn": "germeval2017_test_syn_df_opinion.tsv",
    "germeval_test_dia": "germeval2017_test_dia_df_opinion.tsv",
}
OPTIONAL_TESTS = {"germeval_test_dia"}
# The dev splits (in --dev) per language: kept out of the training files too.
DEV_FILES = {
    "en": {"tweeteval_val": "en_tweeteval_val/val_text.txt",
           "umsab_en_val": "en_semeval2017_umsab/val_text.txt"},
    "de": {"umsab_de_val": "de_sb10k_umsab/val_text.txt"},
}
CONTAINMENT_MIN = 25  # keys this long also match when one contains the other
NEAR_TEST = "sb10k_test"
NEAR_GRAM = 5
NEAR_MIN = 10
NEAR_JACCARD = 0.5
DEV_CONTAINMENT = False  # dev splits: equal keys only


class SourceError(Exception):
    """A repository, commit or file that is not there: the data set is skipped."""


# --------------------------------------------------------------------------- repositories


def _git_dir(folder: Path) -> Path | None:
    """The git directory of a bare repository or of a clone with a work tree, else None."""
    dot_git = folder / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():  # a linked work tree or submodule: "gitdir: <path>"
        target = dot_git.read_text(encoding="utf-8").partition("gitdir:")[2].strip()
        return (folder / target).resolve() if target else None
    if (folder / "HEAD").is_file() and (folder / "objects").is_dir():
        return folder
    return None


@dataclass
class Repo:
    """One source repository read at one commit."""

    slug: str
    git_dir: Path
    rev: str

    def _git(self, *args: str) -> bytes:
        try:
            done = subprocess.run(["git", f"--git-dir={self.git_dir}", *args],
                                  capture_output=True, check=False)
        except OSError as error:  # no git on PATH
            raise SourceError(f"{self.slug}: cannot run git: {error}") from None
        if done.returncode:
            message = done.stderr.decode("utf-8", "replace").strip().splitlines()
            raise SourceError(f"{self.slug}: git {' '.join(args)}: "
                              f"{message[-1] if message else 'failed'}")
        return done.stdout

    def read(self, path: str) -> str:
        data = self._git("cat-file", "blob", f"{self.rev}:{path}")
        return data.decode("utf-8")

    def files(self, folder: str) -> list[str]:
        """Paths of the files directly in folder, sorted."""
        out = self._git("ls-tree", "--name-only", f"{self.rev}:{folder}")
        return sorted(f"{folder}/{name}" for name in out.decode("utf-8").splitlines())


def open_repo(repos: Path, slug: str, at: str | None) -> Repo:
    local = slug.replace("/", "+")
    for folder in (repos / local, repos / local / "repo"):
        git_dir = _git_dir(folder) if folder.is_dir() else None
        if git_dir is None:
            continue
        repo = Repo(slug, git_dir, at or PINNED[slug])
        try:
            repo._git("rev-parse", "--verify", "--quiet", f"{repo.rev}^{{commit}}")
        except SourceError:
            raise SourceError(f"{slug}: commit {repo.rev} is not in {git_dir} (fetch it, or "
                              "clone the full history)") from None
        return repo
    raise SourceError(f"{slug}: no clone at {repos / local} (clone the GitHub repository "
                      f"{slug}, commit {PINNED[slug]})")


# --------------------------------------------------------------------------- normalising

_SPACE = re.compile(r"\s+")
_ESCAPE = re.compile(r"(?:\\u[0-9a-fA-F]{4})+")


def normalise(text: str) -> str:
    """Tabs, line breaks and runs of white space to one space, trimmed."""
    return _SPACE.sub(" ", text).strip()


def decode_escapes(text: str) -> str:
    """\\uXXXX escapes (as in the SemEval download scripts' output) to their characters,
    surrogate pairs included."""
    def characters(match: re.Match[str]) -> str:
        units = bytes.fromhex(match.group(0).replace("\\u", ""))
        return units.decode("utf-16-be", "replace")  # a lone surrogate becomes U+FFFD
    return _ESCAPE.sub(characters, text)


def unquote(field: str) -> str:
    """A field as a CSV writer quoted it: without the enclosing quotes, doubled quotes single.
    (Some SemEval lines lost their closing quote where the tweet had a line break.)"""
    if len(field) >= 2 and field[0] == field[-1] == '"':
        field = field[1:-1]
    return field.replace('""', '"')


# --------------------------------------------------------------------------- readers
# Each reader yields one (label, text) per source row: label one of LABELS, None for a label
# that maps to none of them, or a Skip saying why the row cannot be used.


@dataclass(frozen=True)
class Skip:
    reason: str


Row = tuple[str | Skip | None, str]
NO_TEXT = Skip("text not available")


def _as_given(label: str) -> str | None:
    label = label.strip().lower()
    return label if label in LABELS else None


def _lines(repo: Repo, path: str) -> Iterator[str]:
    """The file's non-empty lines, without their line ends."""
    for line in repo.read(path).split("\n"):
        line = line.removesuffix("\r")
        if line.strip():
            yield line


SEMEVAL_2016_TEST = "twitter-2016test-A.tsv"


def _semeval(repos: dict[str, Repo], later_test: bool) -> Iterator[Row]:
    repo = repos[SEMEVAL]
    names = re.compile(r"twitter-201[3-6][a-z]*-A\.tsv")
    for path in repo.files("dataset/Subtask_A/downloaded"):
        name = path.rsplit("/", 1)[1]
        if names.fullmatch(name) and (name == SEMEVAL_2016_TEST) == later_test:
            for line in _lines(repo, path):
                _id, label, text = line.split("\t", 2)
                # the 2016 test file ends every line with an empty column
                yield _as_given(label), decode_escapes(unquote(text.rstrip("\t")))


def read_semeval(repos: dict[str, Repo]) -> Iterator[Row]:
    return _semeval(repos, later_test=False)


def read_semeval_2016_test(repos: dict[str, Repo]) -> Iterator[Row]:
    return _semeval(repos, later_test=True)


def read_sb10k(repos: dict[str, Repo]) -> Iterator[Row]:
    """One row per tweet id of either copy: the original text where the Fricke copy has it
    (deleted tweets are "Not Available" there), else the tokenised text of Guhr's copy."""
    original: dict[str, tuple[str, str]] = {}
    for line in _lines(repos[FRICKE], "data/labeled_sentiment_data/sb10k_corpus.tsv"):
        tweet_id, label, _hash, _entities, text = line.split("\t", 4)
        original.setdefault(tweet_id, (label, "" if text == "Not Available" else text))
    tokenised: dict[str, tuple[str, str]] = {}
    for split in ("train", "dev", "test"):
        for path in repos[GUHR].files(f"source-data/SB10k/not-preprocessed/{split}"):
            for line in _lines(repos[GUHR], path):
                tweet_id, label, text = line.split("\t")[:3]
                tokenised.setdefault(tweet_id, (label, text))
    for tweet_id in [*original, *(i for i in tokenised if i not in original)]:
        label, text = original.get(tweet_id) or tokenised[tweet_id]
        if not text.strip() and tweet_id in tokenised:
            text = tokenised[tweet_id][1]
        yield (_as_given(label) if text.strip() else NO_TEXT), text


def read_potts(repos: dict[str, Repo]) -> Iterator[Row]:
    """train/<n>.<topic>.tsv and dev/dev.tsv; not train/train.tsv (the numbered files
    together, absent from some snapshots) nor dev/7.<topic>.tsv (dev.tsv split by topic). A
    tweet that PotTS also has in its test split (one) is left out."""
    repo = repos[GUHR]
    base = "source-data/PotTS/not-preprocessed"
    numbered = re.compile(r"\d+\.[^/]+\.tsv")

    def parts(split: str) -> list[str]:
        return [path for path in repo.files(f"{base}/{split}")
                if numbered.fullmatch(path.rsplit("/", 1)[1])]

    test_ids = {line.split("\t", 1)[0] for path in parts("test") for line in _lines(repo, path)}
    in_test = Skip("tweet also in the PotTS test split")
    for path in [*parts("train"), f"{base}/dev/dev.tsv"]:
        for line in _lines(repo, path):
            tweet_id, label, text = line.split("\t")[:3]
            yield (in_test if tweet_id in test_ids else _as_given(label)), text


def read_mozetic(repos: dict[str, Repo]) -> Iterator[Row]:
    """<id> TAB <Positive|Negative> TAB \\<text>; a line without an id continues the tweet."""
    start = re.compile(r"(\d+)\t([A-Za-z]+)\t\\*(.*)", re.DOTALL)
    row: list[str] | None = None
    for line in repos[MOZETIC].read("retrieved_dataset/deu.txt").split("\n"):
        match = start.fullmatch(line)
        if match:
            if row:
                yield _as_given(row[0]), row[1]
            row = [match.group(2), match.group(3)]
        elif row:  # a line break inside the tweet before
            row[1] += "\n" + line
    if row:
        yield _as_given(row[0]), row[1]


XED_EMOTIONS = {"1": "anger", "2": "anticipation", "3": "disgust", "4": "fear", "5": "joy",
                "6": "sadness", "7": "surprise", "8": "trust"}
XED_POSITIVE = {"anticipation", "joy", "trust"}
XED_NEGATIVE = {"anger", "disgust", "fear", "sadness"}
_XED_LABELS = re.compile(r"\d+(?:\s*,\s*\d+)*")


def read_xed(repos: dict[str, Repo]) -> Iterator[Row]:
    """<subtitle> TAB <emotion numbers>; the file also holds some raw alignment lines (paths,
    line numbers, both languages' text) and broken lines without emotions: not usable."""
    malformed = Skip("no emotion column")
    for line in _lines(repos[XED], "Projections/de-projections.tsv"):
        fields = line.split("\t")
        if len(fields) != 2 or not _XED_LABELS.fullmatch(fields[1].strip()):
            yield malformed, line
            continue
        emotions = {XED_EMOTIONS.get(n) for n in re.findall(r"\d+", fields[1])}
        label = ("positive" if emotions <= XED_POSITIVE
                 else "negative" if emotions <= XED_NEGATIVE else None)
        yield label, fields[0]


def read_guhr_emotions(repos: dict[str, Repo]) -> Iterator[Row]:
    """__label__<label> <text>"""
    for line in _lines(repos[GUHR], "source-data/emotions.txt"):
        label, _, text = line.partition(" ")
        yield _as_given(label.removeprefix("__label__")), text


def _csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text, newline="")))


SCHMIDT_LABELS = {"1": "positive", "2": "negative", "3": "neutral"}
# the scrape appended the reply, retweet and like counts (" 116 80 761", " 1.549", " 2 12")
_ENGAGEMENT = re.compile(r"(?:\s+\d[\d.]*)+\s*$")


def read_schmidt(repos: dict[str, Repo]) -> Iterator[Row]:
    for row in _csv_rows(repos[HELLWIG].read("Datasets/Schmidt2022/train.csv")):
        yield (SCHMIDT_LABELS.get(row["majority_sentiment"].strip()),
               _ENGAGEMENT.sub("", row["Embedded_text"]))


def read_hellwig(repos: dict[str, Repo]) -> Iterator[Row]:
    for row in _csv_rows(repos[HELLWIG].read("Datasets/annotations_matched_filtered.csv")):
        yield _as_given(row["sentiment"]), row["tweet"]


def read_omp(repos: dict[str, Repo]) -> Iterator[Row]:
    """<label> TAB <post>, the post CSV-quoted where it has quotes or semicolons."""
    for line in _lines(repos[FRICKE], "data/labeled_sentiment_data/million_pos_corpus.tsv"):
        label, _, text = line.partition("\t")
        yield _as_given(label), unquote(text)


def read_tse(repos: dict[str, Repo]) -> Iterator[Row]:
    for name in ("train", "test"):
        for row in _csv_rows(repos[TSE].read(f"tweet-sentiment-extraction/{name}.csv")):
            yield _as_given(row["sentiment"]), row["text"]


def emobank_label(valence: float) -> str | None:
    """EmoBank's mean valence (1..5, 3 neutral) as a label; the doubtful bands between none."""
    if valence <= 2.6:
        return "negative"
    if 2.9 <= valence <= 3.1:
        return "neutral"
    if valence >= 3.4:
        return "positive"
    return None


def read_emobank(repos: dict[str, Repo]) -> Iterator[Row]:
    for row in _csv_rows(repos[EMOBANK].read("corpus/emobank.csv")):
        yield emobank_label(float(row["V"])), row["text"]


@dataclass(frozen=True)
class DataSet:
    file: str
    lang: str
    repos: tuple[str, ...]
    read: Callable[[dict[str, Repo]], Iterable[Row]]
    near_duplicates: bool = False  # German sets: also drop near-copies of SB10k test tweets


DATA_SETS = (
    DataSet("semeval2013_2016_en.tsv", "en", (SEMEVAL,), read_semeval),
    DataSet("semeval2016_test_en.tsv", "en", (SEMEVAL,), read_semeval_2016_test),
    DataSet("tse_tweets_en.tsv", "en", (TSE,), read_tse),
    DataSet("emobank_en.tsv", "en", (EMOBANK,), read_emobank),
    DataSet("sb10k_full_minus_test.tsv", "de", (FRICKE, GUHR), read_sb10k, True),
    DataSet("potts.tsv", "de", (GUHR,), read_potts, True),
    DataSet("mozetic2016_de_posneg.tsv", "de", (MOZETIC,), read_mozetic, True),
    DataSet("xed_de_projected.tsv", "de", (XED,), read_xed, True),
    DataSet("guhr_emotions.tsv", "de", (GUHR,), read_guhr_emotions, True),
    DataSet("schmidt2022_german_politicians_train.tsv", "de", (HELLWIG,), read_schmidt, True),
    DataSet("hellwig2023_election2021_party_tweets.tsv", "de", (HELLWIG,), read_hellwig, True),
    DataSet("omp_one_million_posts_sentiment.tsv", "de", (FRICKE,), read_omp, True),
)


# --------------------------------------------------------------------------- matching

_LINK = re.compile(r"https?\S*|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_LEADING_RT = re.compile(r"^rt\b")
_NOT_ALNUM = re.compile(r"[\W_]+")


def strict_key(text: str) -> str:
    """The key SOURCES_extra.md describes: lower case, NFKC, ß as ss, without links, @handles,
    a leading RT and anything but letters and digits. Stricter than text_key where that keeps
    something: HTML entities are decoded first (&amp;amp; as &amp;), underscores go, and so does an
    @handle after a space or punctuation mark (text_key's pattern eats the "@" with them)."""
    text = html.unescape(html.unescape(text))
    text = unicodedata.normalize("NFKC", text).lower().replace("ß", "ss")
    text = _HANDLE.sub(" ", _LINK.sub(" ", text))
    return _NOT_ALNUM.sub("", _LEADING_RT.sub(" ", text))


# A row matches a held-out text if it does under either key: text_key is what the trainer
# excludes by, strict_key what the files were first made with.
KEYS: tuple[Callable[[str], str], ...] = (text_key, strict_key)


class KeyIndex:
    """The keys of one held-out split: which candidate key matches one of them (equal, and
    with containment also for keys of CONTAINMENT_MIN+ characters one inside the other)."""

    def __init__(self, keys: Iterable[str], containment: bool) -> None:
        self.keys = {key for key in keys if key}
        self.containment = containment
        long_keys = sorted(k for k in self.keys if containment and len(k) >= CONTAINMENT_MIN)
        self._joined = "\n".join(long_keys)  # keys have no "\n": a match stays in one key
        windows = {hash(key[i:i + CONTAINMENT_MIN]) for key in long_keys
                   for i in range(len(key) - CONTAINMENT_MIN + 1)}
        self._windows = np.array(sorted(windows), dtype=np.int64)
        self._by_prefix: dict[str, list[str]] = {}
        for key in long_keys:
            self._by_prefix.setdefault(key[:CONTAINMENT_MIN], []).append(key)

    def _has_window(self, window: str) -> bool:
        value = hash(window)
        at = int(np.searchsorted(self._windows, value))
        return at < len(self._windows) and int(self._windows[at]) == value

    def matches(self, key: str) -> bool:
        if not key:
            return False
        if key in self.keys:
            return True
        if not self.containment or len(key) < CONTAINMENT_MIN:
            return False
        if self._has_window(key[:CONTAINMENT_MIN]) and key in self._joined:
            return True  # the candidate inside a held-out text
        for i in range(len(key) - CONTAINMENT_MIN + 1):  # a held-out text inside the candidate
            for held_out in self._by_prefix.get(key[i:i + CONTAINMENT_MIN], ()):
                if key.startswith(held_out, i):
                    return True
        return False


def _grams(key: str) -> set[str]:
    return {key[i:i + NEAR_GRAM] for i in range(len(key) - NEAR_GRAM + 1)}


class NearIndex:
    """Whether a key's character 5-grams have a Jaccard similarity >= NEAR_JACCARD with those of
    a held-out key (both of NEAR_MIN+ characters)."""

    def __init__(self, keys: Iterable[str]) -> None:
        self._sizes: list[int] = []
        self._postings: dict[str, list[int]] = {}
        for number, key in enumerate(sorted({k for k in keys if len(k) >= NEAR_MIN})):
            grams = _grams(key)
            self._sizes.append(len(grams))
            for gram in grams:
                self._postings.setdefault(gram, []).append(number)

    def matches(self, key: str) -> bool:
        if len(key) < NEAR_MIN:
            return False
        grams = _grams(key)
        shared: Counter[int] = Counter()
        for gram in grams:
            shared.update(self._postings.get(gram, ()))
        return any(common / (len(grams) + self._sizes[number] - common) >= NEAR_JACCARD
                   for number, common in shared.items())


NEAR_KEYS: tuple[Callable[[str], str], ...] = (strict_key,)


class HeldOut:
    """One held-out split (a test or dev split) under each key."""

    def __init__(self, name: str, texts: list[str], containment: bool, near: bool = False):
        self.name = name
        self.size = len(texts)
        self._exact = [(key, KeyIndex(map(key, texts), containment)) for key in KEYS]
        self._near = [(key, NearIndex(map(key, texts))) for key in NEAR_KEYS] if near else []

    def matches(self, text: str) -> bool:
        return any(index.matches(key(text)) for key, index in self._exact)

    def near(self, text: str) -> bool:
        return any(index.matches(key(text)) for key, index in self._near)


def _texts(path: Path) -> list[str]:
    return [text for data_set in read_data_sets(str(path)) for text in data_set.texts]


def load_held_out(tests: Path, dev: Path) -> tuple[list[HeldOut], dict[str, list[HeldOut]]]:
    """The test splits (exact or contained matches; SB10k also for near-duplicates) and the
    dev splits per language (exact matches)."""
    test_splits = []
    for name, file in TEST_FILES.items():
        path = tests / file
        if path.exists():
            test_splits.append(HeldOut(name, _texts(path), True, near=name == NEAR_TEST))
            print(f"  test split {name}: {test_splits[-1].size} texts ({path})")
        elif name not in OPTIONAL_TESTS:
            print(f"  WARNING test split {path} missing: its texts are not filtered out")
    dev_splits: dict[str, list[HeldOut]] = {}
    for lang, files in DEV_FILES.items():
        dev_splits[lang] = []
        for name, file in files.items():
            path = dev / file
            if path.exists():
                dev_splits[lang].append(HeldOut(name, _texts(path), DEV_CONTAINMENT))
                print(f"  dev split {name}: {dev_splits[lang][-1].size} texts ({path})")
            else:
                print(f"  WARNING dev split {path} missing: its texts are not filtered out")
    return test_splits, dev_splits


# --------------------------------------------------------------------------- building


def build(data_set: DataSet, rows: Iterable[Row], tests: list[HeldOut],
          dev: list[HeldOut]) -> tuple[list[tuple[str, str]], int, Counter[str]]:
    """The rows to write, the number of rows read and the dropped rows per reason."""
    kept: list[tuple[str, str]] = []
    seen: set[tuple[str, str]] = set()
    dropped: Counter[str] = Counter()
    read = 0
    for label, raw in rows:
        read += 1
        text = normalise(raw)
        if isinstance(label, Skip):
            reason = label.reason
        elif label is None:
            reason = "label not mapped"
        elif not text:
            reason = "no text"
        else:
            reason = next((f"in test {split.name}" for split in tests if split.matches(text)),
                          None)
            if reason is None and data_set.near_duplicates:
                reason = next((f"near-duplicate of {split.name}" for split in tests
                               if split.near(text)), None)
            if reason is None:
                reason = next((f"in dev {split.name}" for split in dev if split.matches(text)),
                              None)
            if reason is None and (label, text) in seen:
                reason = "duplicate row"
        if reason:
            dropped[reason] += 1
            continue
        seen.add((label, text))
        kept.append((label, text))
    return kept, read, dropped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repos", type=Path, required=True,
                        help="folder with the clones, named <owner>+<name>")
    parser.add_argument("--out", type=Path,
                        default=REPO / "warehouse" / "sentiment_data" / "extra",
                        help="folder the files are written to")
    parser.add_argument("--tests", type=Path, default=REPO / "warehouse" / "sentiment_data",
                        help="folder with the public test splits")
    parser.add_argument("--dev", type=Path, default=REPO.parent / "shared" / "data"
                        / "sentiment", help="folder with the dev splits (train script --shared)")
    parser.add_argument("--only", nargs="+", metavar="FILE",
                        help="build only these files (e.g. potts.tsv)")
    parser.add_argument("--at", metavar="REV",
                        help="read every repository at REV instead of its pinned commit "
                             "(tests, upstream checks; not for the shipped models)")
    args = parser.parse_args(argv)
    chosen = [d for d in DATA_SETS if not args.only or d.file in args.only]
    unknown = set(args.only or ()) - {d.file for d in DATA_SETS}
    if unknown:
        parser.error(f"unknown --only file(s): {', '.join(sorted(unknown))}")
    if args.at:
        print(f"NOTE: every repository read at {args.at}, not at its pinned commit")

    repos: dict[str, Repo] = {}
    missing: dict[str, str] = {}
    for slug in sorted({slug for d in chosen for slug in d.repos}):
        try:
            repos[slug] = open_repo(args.repos, slug, args.at)
            print(f"  {slug} @ {repos[slug].rev[:12]} ({repos[slug].git_dir})")
        except SourceError as error:
            missing[slug] = str(error)
            print(f"  MISSING {error}")
    test_splits, dev_splits = load_held_out(args.tests, args.dev)

    args.out.mkdir(parents=True, exist_ok=True)
    skipped = []
    for data_set in chosen:
        absent = [missing[slug] for slug in data_set.repos if slug in missing]
        if absent:
            print(f"{data_set.file}: SKIPPED, {absent[0]}")
            skipped.append(data_set.file)
            continue
        try:
            rows = list(data_set.read(repos))
        except (SourceError, UnicodeDecodeError, ValueError, KeyError) as error:
            print(f"{data_set.file}: SKIPPED, cannot read its source: {error}")
            skipped.append(data_set.file)
            continue
        kept, read, dropped = build(data_set, rows, test_splits,
                                    dev_splits.get(data_set.lang, []))
        assert read == len(kept) + sum(dropped.values())
        out = args.out / data_set.file
        out.write_text("".join(f"{label}\t{text}\n" for label, text in kept), encoding="utf-8")
        labels = Counter(label for label, _ in kept)
        print(f"{data_set.file}: rows in {read}, written {len(kept)} ("
              + ", ".join(f"{labels[label]} {label}" for label in LABELS)
              + f"), dropped {sum(dropped.values())}")
        for reason, count in sorted(dropped.items(), key=lambda item: (-item[1], item[0])):
            print(f"    dropped {count:>6}  {reason}")
    if skipped:
        print(f"SKIPPED (sources missing): {', '.join(skipped)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
