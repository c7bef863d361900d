"""scripts/prepare_sentiment_training_data.py on tiny fake source repositories.

Two sources are built with `git init` (one cloned bare, one left with its work tree under
<owner>+<name>/repo, the layout of the local snapshots), a few rows each: one row equals a test
text, one a dev text, one repeats an earlier row, one has a label that maps to nothing. The
script runs as a subprocess at the fakes' HEAD; the other sources are missing and must be
reported and skipped.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ingestion.settings import REPO_ROOT

SCRIPT = REPO_ROOT / "scripts" / "prepare_sentiment_training_data.py"


def _git(*args: str) -> None:
    subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@example.org",
                    "-c", "init.defaultBranch=main", *args], check=True, capture_output=True)


def _fake_repo(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True)
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    _git("init", "--quiet", str(folder))
    _git("-C", str(folder), "add", ".")
    _git("-C", str(folder), "commit", "--quiet", "-m", "fake source")


def _rows(path: Path) -> set[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return {tuple(line.split("\t", 1)) for line in lines}


def test_rebuilds_the_rows_and_counts_the_dropped_ones(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    _fake_repo(tmp_path / "work" / "guhr", {"source-data/emotions.txt": (
        "__label__negative bist du echt so ein dulli\n"
        "__label__positive Das hast du\twunderbar gemacht\n"
        "__label__negative Lächerlich!\n"          # the test text below
        "__label__negative bist du echt so ein dulli\n"  # repeated
        "__label__mixed irgendwie beides\n")})      # no such label
    _git("clone", "--quiet", "--bare", str(tmp_path / "work" / "guhr"),
         str(repos / "oliverguhr+german-sentiment"))
    _fake_repo(repos / "florianfricke+Bachelor_Thesis_Sentiment_Analyse" / "repo", {
        "data/labeled_sentiment_data/million_pos_corpus.tsv": (
            "neutral\tTop qualifizierte Leute verdienen auch viel.\n"
            'negative\t"Das ist ""schlimm"", sagt sie."\n'
            "positive\t@jemand Gute Nacht :)\n")})  # the dev text below
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "sb10k_umsab_test_text.txt").write_text(
        "@user lächerlich\nDer Zug hat wieder Verspätung, wie immer\n", encoding="utf-8")
    (tests / "sb10k_umsab_test_labels.txt").write_text("0\n0\n", encoding="utf-8")
    dev = tmp_path / "dev" / "de_sb10k_umsab"
    dev.mkdir(parents=True)
    (dev / "val_text.txt").write_text("@user Gute Nacht!\n", encoding="utf-8")
    (dev / "val_labels.txt").write_text("2\n", encoding="utf-8")
    out = tmp_path / "out"

    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repos", str(repos), "--out", str(out),
         "--tests", str(tests), "--dev", str(tmp_path / "dev"), "--at", "HEAD"],
        capture_output=True, text=True, check=False)
    report = done.stdout

    assert done.returncode == 0, done.stderr
    assert _rows(out / "guhr_emotions.tsv") == {
        ("negative", "bist du echt so ein dulli"),
        ("positive", "Das hast du wunderbar gemacht"),
    }
    assert re.search(r"guhr_emotions\.tsv: rows in 5, written 2 .*, dropped 3\n", report)
    for reason in ("in test sb10k_test", "duplicate row", "label not mapped"):
        assert re.search(rf"dropped +1  {reason}\n", report), reason
    assert _rows(out / "omp_one_million_posts_sentiment.tsv") == {
        ("neutral", "Top qualifizierte Leute verdienen auch viel."),
        ("negative", 'Das ist "schlimm", sagt sie.'),
    }
    assert re.search(r"omp_one_million_posts_sentiment\.tsv: rows in 3, written 2 .*, "
                     r"dropped 1\n +dropped +1  in dev umsab_de_val\n", report)
    # the other sources are not there: reported and skipped, nothing written for them
    assert "MISSING Helsinki-NLP/XED: no clone at" in report
    assert "xed_de_projected.tsv: SKIPPED" in report
    assert not (out / "xed_de_projected.tsv").exists()
    # potts.tsv and guhr_emotions.tsv share a source: it is there, but without PotTS
    assert "potts.tsv: SKIPPED, cannot read its source" in report


def test_english_sources_keep_the_later_test_year_apart(tmp_path: Path) -> None:
    repos = tmp_path / "repos"
    folder = "dataset/Subtask_A/downloaded"
    _fake_repo(repos / "cbaziotis+datastories-semeval2017-task4" / "repo", {
        f"{folder}/twitter-2013train-A.tsv": "1\tpositive\tloving the new phone\n",
        f"{folder}/twitter-2016test-A.tsv": "2\tnegative\tworst update ever\t\n",
        f"{folder}/twitter-2017test-A.tsv": "3\tneutral\tnever read\n",
    })
    _fake_repo(repos / "JULIELab+EmoBank" / "repo", {"corpus/emobank.csv": (
        "id,split,V,A,D,text\n"
        "a,train,3.0,3.0,3.2,The meeting is at noon.\n"
        "b,train,2.2,3.5,2.8,\"I lost everything, again.\"\n"
        "c,train,2.75,3.0,3.0,Somewhat meh.\n"          # between the bands: no label
        "d,test,3.8,3.1,3.3,What a lovely surprise!\n")})
    _fake_repo(repos / "spence998+Tweet-Sentiment-Predictor" / "repo", {
        "tweet-sentiment-extraction/train.csv": (
            "textID,text,selected_text,sentiment\nx1, so happy today,happy,positive\n"),
        "tweet-sentiment-extraction/test.csv": (
            "textID,text,sentiment\nx1, so happy today,positive\nx2,bus is late,negative\n")})
    out = tmp_path / "out"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--repos", str(repos), "--out", str(out),
         "--tests", str(tmp_path / "none"), "--dev", str(tmp_path / "none"), "--at", "HEAD",
         "--only", "semeval2013_2016_en.tsv", "semeval2016_test_en.tsv", "emobank_en.tsv",
         "tse_tweets_en.tsv"],
        capture_output=True, text=True, check=False)

    assert done.returncode == 0, done.stderr
    assert _rows(out / "semeval2013_2016_en.tsv") == {("positive", "loving the new phone")}
    assert _rows(out / "semeval2016_test_en.tsv") == {("negative", "worst update ever")}
    assert _rows(out / "emobank_en.tsv") == {
        ("neutral", "The meeting is at noon."), ("negative", "I lost everything, again."),
        ("positive", "What a lovely surprise!")}
    assert re.search(r"emobank_en\.tsv: rows in 4, written 3 .*\n +dropped +1  label not "
                     r"mapped\n", done.stdout)
    assert _rows(out / "tse_tweets_en.tsv") == {("positive", "so happy today"),
                                                ("negative", "bus is late")}
