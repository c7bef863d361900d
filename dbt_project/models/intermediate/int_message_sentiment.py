"""Sentiment per message: one row per int_messages message, scored once (incremental).

Language: the platform's own field (X `lang`, Mastodon `language`) when it names a language,
else detected from the text with py3langid (a naive Bayes classifier whose model ships inside
the wheel: no download at run time, and the same text always gives the same answer).

Score: VADER (vaderSentiment) for English and every language without a lexicon of its own
(VADER still scores emojis, emoticons, capitals and "!!!" there). German text is scored by the
same VADER engine with the SentiWS lexicon (Leipzig University; the inflected word lists
shipped by the `gersent` package) in place of VADER's English word list, German negators in
place of English ones, and every emoji keeping the valence VADER gives it in English text.
See docs/metrics.md for the reasons behind these choices.

Configuration comes from dbt vars, passed in through the model config in _intermediate.yml
(Python models cannot call var() themselves).
"""

from __future__ import annotations

import copy
import functools
import json
import math
import re
from importlib import resources

import pyarrow as pa

OUTPUT_SCHEMA = pa.schema(
    [
        ("message_key", pa.string()),
        ("lang", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
    ]
)

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


def score_messages(
    message_keys: list[str],
    texts: list[str | None],
    platform_langs: list[str | None],
    positive_threshold: float = 0.05,
    negative_threshold: float = -0.05,
    languages: tuple[str, ...] | None = DEFAULT_DETECT_LANGUAGES,
    min_letters: int = DEFAULT_MIN_LETTERS_TO_DETECT,
    overrides: dict[str, float] | None = None,
) -> pa.Table:
    """Score a batch of messages; returns a table in OUTPUT_SCHEMA, one row per input."""
    frozen = tuple(sorted((overrides or {}).items()))
    langs, scores, labels = [], [], []
    for text, platform_lang in zip(texts, platform_langs, strict=True):
        lang = resolve_language(platform_lang, text, languages, min_letters)
        score = score_text(text, lang, frozen)
        langs.append(lang)
        scores.append(score)
        labels.append(label_score(score, positive_threshold, negative_threshold))
    return pa.table(
        {
            "message_key": message_keys,
            "lang": langs,
            "sentiment_score": scores,
            "sentiment_label": labels,
        },
        schema=OUTPUT_SCHEMA,
    )


def model(dbt, session):
    """dbt entry point: score the messages of int_messages not scored yet."""
    dbt.config(materialized="incremental", unique_key="message_key")
    languages = dbt.config.get("sentiment_detect_languages")
    messages = dbt.ref("int_messages").select("message_key, text, lang")
    if dbt.is_incremental:
        # Scored once: a message already in this table is never scored again.
        messages = messages.filter(f"message_key not in (select message_key from {dbt.this})")
    batch = messages.order("message_key").fetch_arrow_table()
    rows = dbt.ref("sentiment_lexicon_overrides").fetch_arrow_table().to_pylist()
    overrides = {str(r["token"]): float(r["valence"]) for r in rows}
    return score_messages(
        batch.column("message_key").to_pylist(),
        batch.column("text").to_pylist(),
        batch.column("lang").to_pylist(),
        positive_threshold=float(dbt.config.get("sentiment_positive_threshold")),
        negative_threshold=float(dbt.config.get("sentiment_negative_threshold")),
        languages=tuple(languages) if languages else None,
        min_letters=int(dbt.config.get("sentiment_min_letters_to_detect")),
        overrides=overrides,
    )
