"""The message sentiment scorer: language choice, score and label of one text.

The warehouse (dbt_project/models/intermediate/int_message_sentiment.py), `rapport sentiment`
and benchmarks/sentiment_accuracy.py all score through this module, so they agree exactly.

Language: the platform's own field (X `lang`, Mastodon `language`) when it names a language,
else detected from the text with py3langid (a naive Bayes classifier whose model ships inside
the wheel: no download at run time, and the same text always gives the same answer).

Score: VADER (vaderSentiment) for English and every language without a lexicon of its own
(VADER still scores emojis, emoticons, capitals and "!!!" there). German text is scored by the
same VADER engine with the SentiWS lexicon (Leipzig University; the inflected word lists
shipped by the `gersent` package) in place of VADER's English word list, German negators in
place of English ones, and every emoji keeping the valence VADER gives it in English text.
See docs/metrics.md for the reasons behind these choices.

Settings (thresholds, detection languages, lexicon overrides) are a `SentimentSettings`: the
dbt model builds it from its dbt vars and the sentiment_lexicon_overrides seed, other callers
from the same two places on disk (`project_settings`).
"""

from __future__ import annotations

import copy
import csv
import functools
import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

# Codes the platforms use for "no language" (X: und, zxx, qme, qht...; Mastodon: null).
UNDETERMINED_LANGUAGE_CODES = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst", "mul"})

# SentiWS weights lie in [-1, 1], VADER valences in [-4, 4].
SENTIWS_TO_VADER_SCALE = 4.0

# Words that flip the valence of the next three words, as VADER's English NEGATE list does.
GERMAN_NEGATORS = frozenset(
    {"nicht", "nichts", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie",
     "niemals", "nimmer", "ohne", "weder"}
)

# German puts "nicht" at the end of a clause ("... brüht nicht. Lächerlich"): negation must
# not reach across a sentence boundary, so the German path marks each one with this token.
SENTENCE_BOUNDARY_TOKEN = "satzgrenze"
_SENTENCE_END = re.compile(r"[.!?;]+(?=\s|$)")

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

DEFAULT_DETECT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "tr", "sv", "da")
DEFAULT_MIN_LETTERS_TO_DETECT = 3


def normalise_language_code(code: str | None) -> str | None:
    """Return the primary ISO 639-1 subtag of a platform language code, or None if unknown.

    'de-DE' -> 'de', 'EN' -> 'en'; X's 'und'/'zxx'/'qme'... (no language) -> None.
    """
    if code is None:
        return None
    primary = re.split(r"[-_]", code.strip().lower(), maxsplit=1)[0]
    if not primary or primary in UNDETERMINED_LANGUAGE_CODES:
        return None
    return primary


@functools.cache
def _language_identifier(languages: tuple[str, ...] | None):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(languages) if languages else None)
    return identifier


def detect_language(
    text: str | None,
    languages: tuple[str, ...] | None = DEFAULT_DETECT_LANGUAGES,
    min_letters: int = DEFAULT_MIN_LETTERS_TO_DETECT,
) -> str | None:
    """Detect the language of a text; None when there is too little text to tell.

    Links, @handles and #hashtags are removed first: they are not written in any language and
    mislead a character n-gram model on short posts. `languages` restricts the candidates
    (a short post otherwise often comes out as a close neighbour such as Luxembourgish).
    """
    if not text:
        return None
    cleaned = _NOISE.sub(" ", text)
    if len(_LETTERS.findall(cleaned)) < min_letters:
        return None
    return _language_identifier(languages).classify(cleaned)[0]


def resolve_language(
    platform_lang: str | None,
    text: str | None,
    languages: tuple[str, ...] | None = DEFAULT_DETECT_LANGUAGES,
    min_letters: int = DEFAULT_MIN_LETTERS_TO_DETECT,
) -> str | None:
    """The message's language: the platform's field when it names one, else detected."""
    return normalise_language_code(platform_lang) or detect_language(text, languages, min_letters)


def _vader_module():
    from vaderSentiment import vaderSentiment

    return vaderSentiment


def _sentiws_lexicon() -> dict[str, float]:
    """SentiWS (inflected forms) as a lower-cased VADER lexicon; on clashes the stronger wins."""
    folder = resources.files("gersent") / "wordlists" / "de"
    lexicon: dict[str, float] = {}
    for name in ("positive.json", "negative.json"):
        for word, weight in json.loads((folder / name).read_text(encoding="utf-8")).items():
            valence = float(weight) * SENTIWS_TO_VADER_SCALE
            key = word.lower()
            if abs(valence) > abs(lexicon.get(key, 0.0)):
                lexicon[key] = valence
    return lexicon


def _inverse_normalize(compound: float, alpha: float = 15.0) -> float:
    """The raw VADER valence whose normalised compound is `compound` (inverse of normalize)."""
    compound = max(min(compound, 0.9999), -0.9999)
    return compound * math.sqrt(alpha / (1.0 - compound * compound))


@functools.cache
def _base_analyzers():
    vader = _vader_module()

    class GermanSentimentIntensityAnalyzer(vader.SentimentIntensityAnalyzer):
        """VADER's rules over SentiWS, with German negators and English emoji valences."""

        def __init__(self, english: vader.SentimentIntensityAnalyzer) -> None:
            super().__init__()
            self.lexicon = _sentiws_lexicon()
            # VADER turns an emoji into its English description and scores those words; German
            # has no such words, so each emoji becomes one token carrying its English valence.
            emojis: dict[str, str] = {}
            for index, emoji in enumerate(sorted(english.emojis)):
                valence = _inverse_normalize(english.polarity_scores(emoji)["compound"])
                if valence != 0.0:
                    token = f"emojivalence{index}"
                    emojis[emoji] = token
                    self.lexicon[token] = valence
            self.emojis = emojis

        def polarity_scores(self, text):
            return super().polarity_scores(
                _SENTENCE_END.sub(lambda end: f"{end.group(0)} {SENTENCE_BOUNDARY_TOKEN}", text)
            )

        @staticmethod
        def _negation_check(valence, words_and_emoticons, start_i, i):
            preceding = words_and_emoticons[i - (start_i + 1)].lower()
            between = [word.lower() for word in words_and_emoticons[i - start_i : i]]
            if preceding in GERMAN_NEGATORS and SENTENCE_BOUNDARY_TOKEN not in between:
                valence = valence * vader.N_SCALAR
            return valence

    english = vader.SentimentIntensityAnalyzer()
    return english, GermanSentimentIntensityAnalyzer(english)


@functools.cache
def _analyzers(overrides: tuple[tuple[str, float], ...] = ()):
    """The English and German analyzers with the domain overrides applied to both.

    An override replaces a word's valence (VADER scale, -4..4) or gives an emoji a valence of
    its own (VADER's English emoji descriptions miss some: 🤬, 😡 and 👎 score 0 as shipped).
    """
    english, german = _base_analyzers()
    if not overrides:
        return english, german
    english, german = copy.copy(english), copy.copy(german)
    for analyzer in (english, german):
        analyzer.lexicon = dict(analyzer.lexicon)
        analyzer.emojis = dict(analyzer.emojis)
        for token, valence in overrides:
            # an overridden emoji stays itself instead of becoming its description
            analyzer.emojis.pop(token, None)
            analyzer.lexicon[token.lower()] = valence
    return english, german


def score_text(text: str | None, lang: str | None,
               overrides: tuple[tuple[str, float], ...] = ()) -> float | None:
    """Compound sentiment in [-1, 1] of one message; None when there is no text to score.

    German ('de') uses the SentiWS lexicon; every other language the English VADER lexicon,
    which still reads emojis, emoticons, capitals and exclamation marks. ``overrides`` are
    (token, valence) pairs from the sentiment_lexicon_overrides seed.
    """
    if text is None or not text.strip():
        return None
    english, german = _analyzers(overrides)
    analyzer = german if lang == "de" else english
    return float(analyzer.polarity_scores(text)["compound"])


def label_score(
    score: float | None, positive_threshold: float, negative_threshold: float
) -> str | None:
    """negative / neutral / positive: at or beyond a threshold counts (VADER's convention)."""
    if score is None:
        return None
    if score >= positive_threshold:
        return "positive"
    if score <= negative_threshold:
        return "negative"
    return "neutral"




@dataclass(frozen=True)
class SentimentSettings:
    """What scoring depends on besides the text: label thresholds, the languages detection may
    answer (None: all of py3langid's), the letters a text needs to be detected, and the
    (token, valence) overrides of the sentiment_lexicon_overrides seed, sorted by token."""

    positive_threshold: float = 0.05
    negative_threshold: float = -0.05
    detect_languages: tuple[str, ...] | None = DEFAULT_DETECT_LANGUAGES
    min_letters_to_detect: int = DEFAULT_MIN_LETTERS_TO_DETECT
    overrides: tuple[tuple[str, float], ...] = ()


class Sentiment(NamedTuple):
    """One message's language, compound score in [-1, 1] and label (None without text)."""

    lang: str | None
    score: float | None
    label: str | None


def score_message(text: str | None, platform_lang: str | None,
                  settings: SentimentSettings) -> Sentiment:
    """Language, score and label of one message, as int_message_sentiment stores them."""
    lang = resolve_language(platform_lang, text, settings.detect_languages,
                            settings.min_letters_to_detect)
    score = score_text(text, lang, settings.overrides)
    return Sentiment(lang, score,
                     label_score(score, settings.positive_threshold, settings.negative_threshold))


def settings_from_vars(dbt_vars: Mapping[str, Any],
                       override_rows: Iterable[Mapping[str, Any]]) -> SentimentSettings:
    """Settings from the sentiment_* dbt vars (as the model's config hands them over, or as
    dbt_project.yml sets them) and the rows of the sentiment_lexicon_overrides seed (columns
    token, valence); an empty sentiment_detect_languages allows every language."""
    languages = dbt_vars["sentiment_detect_languages"]
    overrides = {str(row["token"]): float(row["valence"]) for row in override_rows}
    return SentimentSettings(
        positive_threshold=float(dbt_vars["sentiment_positive_threshold"]),
        negative_threshold=float(dbt_vars["sentiment_negative_threshold"]),
        detect_languages=tuple(languages) if languages else None,
        min_letters_to_detect=int(dbt_vars["sentiment_min_letters_to_detect"]),
        overrides=tuple(sorted(overrides.items())),
    )


# dbt reads its seeds from $RAPPORT_SEEDS_DIR (relative to dbt_project/) when set, as
# dbt_project.yml's seed-paths says; orchestration/preflight.py checks that folder.
SEEDS_ENV = "RAPPORT_SEEDS_DIR"
OVERRIDES_SEED = "sentiment_lexicon_overrides.csv"


def project_settings(dbt_project_dir: Path | None = None) -> SentimentSettings:
    """The warehouse's settings as a dbt run without ``--vars`` gets them: the vars' values in
    dbt_project.yml and the overrides seed in the seeds folder dbt reads."""
    import yaml

    from ingestion.settings import REPO_ROOT

    project = dbt_project_dir or REPO_ROOT / "dbt_project"
    dbt_vars = yaml.safe_load((project / "dbt_project.yml").read_text(encoding="utf-8"))["vars"]
    seed = project / (os.environ.get(SEEDS_ENV) or "seeds") / OVERRIDES_SEED
    with seed.open(encoding="utf-8", newline="") as rows:
        return settings_from_vars(dbt_vars, csv.DictReader(rows))
