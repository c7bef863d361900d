"""The scorer gives the numbers it gave when fixtures/sentiment_reference.jsonl.gz was written
(tests/analytics/build_sentiment_reference.py): the same hashed features, probabilities, score,
label and language, courtesy and marker flags on about 2,900 varied texts. The shipped models
were trained on these features, so a faster featurisation must reproduce them exactly."""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from analytics import sentiment
from analytics.sentiment import SentimentSettings
from analytics.sentiment_model import HASH_BITS, featurise

REFERENCE = Path(__file__).resolve().parent / "fixtures" / "sentiment_reference.jsonl.gz"
TOLERANCE = 1e-9


@pytest.fixture(scope="module")
def reference() -> tuple[dict, list[dict]]:
    with gzip.open(REFERENCE, "rt", encoding="utf-8") as lines:
        header, *rows = (json.loads(line) for line in lines)
    return header, rows


def _settings(header: dict) -> SentimentSettings:
    return SentimentSettings(tuple(header["detect_languages"]) or None,
                             header["min_letters_to_detect"],
                             tuple((token, valence) for token, valence in header["overrides"]))


def test_the_reference_covers_both_models_every_label_and_detection(reference):
    _, rows = reference
    assert len(rows) > 2500
    assert {row["label"] for row in rows} == {"negative", "neutral", "positive", None}
    assert {"en", "de", "fr", None} <= {row["lang"] for row in rows}
    assert {row["platform_lang"] for row in rows} >= {"en", "de", None, "und"}
    assert any(row["courtesy"] for row in rows) and any(row["churn"] for row in rows)
    assert any(row["retention"] for row in rows)


@pytest.mark.parametrize("lang", ["en", "de"])
def test_features_are_the_hashed_buckets_and_dense_values_of_the_reference(reference, lang):
    header, rows = reference
    lexicon = sentiment.model_for(lang, _settings(header).overrides).lexicon
    features = featurise([row["text"] for row in rows], lexicon).tocsr()
    for index, row in enumerate(rows):
        expected = row[f"features_{lang}"]
        start, end = features.indptr[index], features.indptr[index + 1]
        columns, values = features.indices[start:end], features.data[start:end]
        hashed = columns < 2**HASH_BITS
        buckets = np.sort(columns[hashed]).astype(np.int64)
        assert (buckets.size, zlib.crc32(buckets.tobytes())) == (expected["n"], expected["crc"]), \
            row["text"]
        # binary features, L2-normalised per row
        assert values[hashed] == pytest.approx(np.full(buckets.size, buckets.size ** -0.5),
                                               abs=1e-15)
        dense = np.zeros(features.shape[1] - 2**HASH_BITS)
        dense[columns[~hashed] - 2**HASH_BITS] = values[~hashed]
        assert dense.tolist() == pytest.approx(expected["dense"], abs=TOLERANCE), row["text"]


@pytest.mark.parametrize("lang", ["en", "de"])
def test_each_model_gives_the_reference_probabilities(reference, lang):
    header, rows = reference
    got = sentiment.probabilities([row["text"] for row in rows], lang,
                                  _settings(header).overrides)
    expected = np.array([row[f"p_{lang}"] for row in rows])
    worst = np.abs(got - expected).max(axis=1)
    assert worst.max() <= TOLERANCE, rows[int(worst.argmax())]["text"]


def test_messages_get_the_reference_language_label_score_and_probabilities(reference):
    header, rows = reference
    scored = sentiment.score_messages([row["text"] for row in rows],
                                      [row["platform_lang"] for row in rows], _settings(header))
    for row, result in zip(rows, scored, strict=True):
        assert (result.lang, result.label) == (row["lang"], row["label"]), row["text"]
        if row["label"] is None:
            assert result.score is None and result.p_negative is None
            continue
        negative, neutral, positive = row["p_de" if row["lang"] == "de" else "p_en"]
        assert (result.p_negative, result.p_neutral, result.p_positive) == pytest.approx(
            (negative, neutral, positive), abs=TOLERANCE), row["text"]
        assert result.score == pytest.approx(positive - negative, abs=TOLERANCE)


def test_courtesy_and_marker_flags_are_the_reference_ones(reference):
    header, rows = reference
    courtesy = frozenset(header["courtesy_words"])
    churn, retention = tuple(header["churn_markers"]), tuple(header["retention_markers"])
    for row in rows:
        text = row["text"]
        assert sentiment.is_courtesy_only(text, courtesy) == row["courtesy"], text
        assert sentiment.matches_marker(text, churn) == row["churn"], text
        assert sentiment.matches_marker(text, retention) == row["retention"], text


def test_features_stay_the_same_when_the_scorers_caches_start_over(reference, monkeypatch):
    import analytics.sentiment_model as sentiment_model

    header, rows = reference
    lexicon = sentiment.model_for("en", _settings(header).overrides).lexicon
    texts = [row["text"] for row in rows[:600]]
    expected = featurise(texts, lexicon)
    monkeypatch.setattr(sentiment_model, "_CACHE_ENTRIES", 50)
    analyser = sentiment_model._Analyser(lexicon)
    # in batches, so tokens and bigrams cached by an earlier batch meet cleared caches
    for start in range(0, len(texts), 100):
        indptr, indices, dense = analyser.hashed(texts[start:start + 100])
        part = expected[start:start + 100]
        assert np.array_equal(np.diff(indptr), np.diff(part.indptr) - (dense != 0).sum(axis=1))
        hashed = part[:, :2**HASH_BITS]
        assert np.array_equal(indices, hashed.indices)
