"""The message sentiment scorer: language choice, probabilities, score and label of one text.

The warehouse (dbt_project/models/intermediate/int_message_sentiment.py), `rapport sentiment`
and benchmarks/sentiment_accuracy.py all score through this module, so they agree exactly.

Language: the platform's own field (X `lang`, Mastodon `language`) when it names a language,
else detected from the text with py3langid (a naive Bayes classifier whose model ships inside
the wheel: no download at run time, and the same text always gives the same answer).

Probabilities: a trained linear model per language (analytics/models/sentiment-<lang>.npz, built
by scripts/train_sentiment_model.py; analytics.sentiment_model has its features) gives the
calibrated probability of negative, neutral and positive. German text uses the German model,
every other language the English one (which still reads emojis, emoticons, "!!!" and
capitals). The score is P(positive) - P(negative), in [-1, 1]; the label is the most probable
one. Calibrated per language, so a probability or score threshold means the same in both.
See docs/sentiment-model.md for the data, licences and figures.

Reading aids on top of the model, each driven by a dbt var: sarcasm idioms turn praise round
(apply_sarcasm, flagged per message), crying faces beside thanks are read as relief
(relief_texts), and a text whose last thanking sentence follows a story is also scored from
that sentence on (thanks_endings). Detected MRMs read them (docs/metrics.md).

Settings (detection languages, lexicon overrides, markers) are a `SentimentSettings`: the dbt
model builds it from its dbt vars and the sentiment_lexicon_overrides seed, other callers from
the same two places on disk (`project_settings`).
"""

from __future__ import annotations

import csv
import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from analytics.sentiment_model import LABELS

# Codes the platforms use for "no language" (X: und, zxx, qme, qht...; Mastodon: null).
UNDETERMINED_LANGUAGE_CODES = frozenset({"und", "zxx", "qam", "qct", "qht", "qme", "qst", "mul"})

_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

DEFAULT_DETECT_LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "pl", "tr", "sv", "da")
DEFAULT_MIN_LETTERS_TO_DETECT = 3


@functools.lru_cache(maxsize=1024)
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


MODELS_DIR = Path(__file__).resolve().parent / "models"
MODEL_LANGUAGES = ("en", "de")


@functools.cache
def _model(lang: str):
    from analytics.sentiment_model import SentimentModel

    path = MODELS_DIR / f"sentiment-{lang}.npz"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: rebuild it with scripts/train_sentiment_model.py "
            "(docs/sentiment-model.md)")
    return SentimentModel.load(path)


@functools.cache
def model_for(lang: str | None, overrides: tuple[tuple[str, float], ...] = ()):
    """The model scoring a language ('de': German, anything else: English), with the
    overrides of the sentiment_lexicon_overrides seed applied to its lexicon: an override
    replaces a word's or emoji's valence (VADER scale, -4..4) in the lexicon feature."""
    model = _model("de" if lang == "de" else "en")
    if not overrides:
        return model
    from analytics.sentiment_model import Lexicon

    words, emojis = dict(model.lexicon.words), dict(model.lexicon.emojis)
    for token, valence in overrides:
        key = token.lower()
        if key in emojis or not any(ch.isalnum() for ch in key):
            emojis[key] = valence
        else:
            words[key] = valence
    return model.with_lexicon(Lexicon(words, emojis))


def probabilities(texts: Sequence[str], lang: str | None,
                  overrides: tuple[tuple[str, float], ...] = ()):
    """(len(texts), 3) probabilities of negative, neutral, positive for texts of one language."""
    return model_for(lang, overrides).probabilities(list(texts))


def score_text(text: str | None, lang: str | None,
               overrides: tuple[tuple[str, float], ...] = ()) -> float | None:
    """P(positive) - P(negative) of one message, in [-1, 1]; None when there is no text."""
    if text is None or not text.strip():
        return None
    negative, _, positive = probabilities([text], lang, overrides)[0]
    return float(positive - negative)


@dataclass(frozen=True)
class SentimentSettings:
    """What scoring depends on besides the text: the languages detection may answer (None: all
    of py3langid's), the letters a text needs to be detected, and the (token, valence)
    overrides of the sentiment_lexicon_overrides seed, sorted by token, and the sarcasm cues."""

    detect_languages: tuple[str, ...] | None = DEFAULT_DETECT_LANGUAGES
    min_letters_to_detect: int = DEFAULT_MIN_LETTERS_TO_DETECT
    overrides: tuple[tuple[str, float], ...] = ()
    # dbt var sentiment_sarcasm_markers: see apply_sarcasm
    sarcasm_markers: tuple[str, ...] = ()
    # dbt var sentiment_thanks_markers: see relief_texts and thanks_endings
    thanks_markers: tuple[str, ...] = ()


class Sentiment(NamedTuple):
    """One message's language, score in [-1, 1], label and the three probabilities (None
    without text)."""

    lang: str | None
    score: float | None
    label: str | None
    p_negative: float | None = None
    p_neutral: float | None = None
    p_positive: float | None = None


# Texts featurised at once: bounds the memory of a night's scoring, costs nothing in speed.
BATCH_SIZE = 5_000


class ScoredMessages(NamedTuple):
    """Messages scored as arrays: each one's language, and the (n, 3) probabilities of
    negative, neutral, positive (NaN for a message without text); which ones a sarcasm cue
    turned round (apply_sarcasm); and the (n, 3) probabilities of each message's thanking
    ending read alone (thanks_endings; NaN where it has none)."""

    langs: list[str | None]
    probabilities: np.ndarray
    sarcastic: np.ndarray | None = None
    thanks_end_probabilities: np.ndarray | None = None

    @property
    def has_text(self) -> np.ndarray:
        return ~np.isnan(self.probabilities[:, 0])

    @property
    def scores(self) -> np.ndarray:
        """P(positive) - P(negative) (NaN without text)."""
        return self.probabilities[:, 2] - self.probabilities[:, 0]

    @property
    def label_indexes(self) -> np.ndarray:
        """Index in LABELS of the most probable label (the first of equals; 0 without text)."""
        return np.argmax(np.nan_to_num(self.probabilities, nan=0.0), axis=1)


def score_message_arrays(texts: Sequence[str | None], platform_langs: Sequence[str | None],
                         settings: SentimentSettings) -> ScoredMessages:
    """Language and probabilities of each message, as arrays (the warehouse's path: no
    object per message); scored in batches of BATCH_SIZE per model."""
    detect, min_letters = settings.detect_languages, settings.min_letters_to_detect
    langs = [normalise_language_code(platform_lang) or detect_language(text, detect, min_letters)
             for text, platform_lang in zip(texts, platform_langs, strict=True)]
    model_texts = relief_texts(texts, settings.thanks_markers)
    probabilities = _probabilities_per_model(model_texts, langs, settings)
    sarcastic = np.zeros(len(texts), dtype=bool)
    sarcastic[apply_sarcasm(texts, probabilities, settings.sarcasm_markers)] = True
    # a sarcastic message's thanks is part of its sarcasm ("Great, another delay. Thanks a
    # lot."): its ending is not read apart
    endings = thanks_endings([None if turned else text for text, turned in
                              zip(model_texts, sarcastic.tolist(), strict=True)],
                             settings.thanks_markers)
    thanks_end = np.full((len(texts), 3), np.nan)
    if endings:
        indexes = list(endings)
        ending_texts = [endings[i] for i in indexes]
        ending_probabilities = _probabilities_per_model(
            ending_texts, [langs[i] for i in indexes], settings)
        apply_sarcasm(ending_texts, ending_probabilities, settings.sarcasm_markers)
        thanks_end[indexes] = ending_probabilities
    return ScoredMessages(langs, probabilities, sarcastic, thanks_end)


def _probabilities_per_model(texts: Sequence[str | None], langs: Sequence[str | None],
                             settings: SentimentSettings) -> np.ndarray:
    """(len(texts), 3) probabilities of texts, each scored by its language's model in batches
    of BATCH_SIZE (NaN rows for texts without text)."""
    probabilities = np.full((len(texts), 3), np.nan)
    batches: dict[str, list[int]] = {"en": [], "de": []}
    for index, (text, lang) in enumerate(zip(texts, langs, strict=True)):
        if text is not None and text.strip():
            batches["de" if lang == "de" else "en"].append(index)
    for model_lang, all_indexes in batches.items():
        for start in range(0, len(all_indexes), BATCH_SIZE):
            indexes = all_indexes[start:start + BATCH_SIZE]
            probabilities[indexes] = model_for(model_lang, settings.overrides).probabilities(
                [texts[i] for i in indexes])
    return probabilities


def apply_sarcasm(texts: Sequence[str | None], probabilities: np.ndarray,
                  markers: tuple[str, ...]) -> list[int]:
    """In place: where a text has a sarcasm cue (markers: the dbt var
    sentiment_sarcasm_markers) and the model finds it more positive than negative, the positive
    and negative probabilities trade places: "Thanks for nothing", "Great, another delay" and
    "Na toll, schon wieder" praise with the words of a complaint. A cue next to words the model
    already reads as negative changes nothing. Returns the indexes of the texts turned round
    (int_message_sentiment.is_sarcastic)."""
    if not markers:
        return []
    praised = np.flatnonzero(probabilities[:, 2] > probabilities[:, 0])
    sarcastic = [index for index in praised.tolist() if matches_marker(texts[index], markers)]
    if sarcastic:
        probabilities[sarcastic] = probabilities[sarcastic][:, ::-1]
    return sarcastic


# Crying faces: people write them for grief and for relief alike ("Danke!!! 😭 endlich geht
# es wieder", "I have her. I'm literally crying 😭 thank you"). Skin tones do not apply.
TEARS = ("😭", "😢", "🥲", "🥹", "😿")
_TEARS = re.compile("|".join(TEARS))


def relief_texts(texts: Sequence[str | None], thanks_markers: tuple[str, ...]) -> list:
    """The texts as the model reads them: where crying faces stand beside thanks (a
    sentiment_thanks_markers match), they are tears of relief, and the model, which learnt
    them mostly as grief, reads the text without them. Tears without thanks stay as written
    ("Zug weg, Anschluss weg 😭"); a text of emojis only keeps them too (the lexicon scores
    "😭🙏🙏" as a whole)."""
    if not thanks_markers:
        return list(texts)
    read = list(texts)
    for index, text in enumerate(texts):
        if text and _TEARS.search(text) and matches_marker(text, thanks_markers):
            without = _TEARS.sub(" ", text)
            if _WORD.search(without):
                read[index] = without
    return read


# A sentence ends at . ! ? or … (runs of them, with closing quotes or brackets) followed by a
# space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")


def sentences(text: str) -> list[str]:
    """The text's sentences, as written (stripped; empty pieces dropped)."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece.strip()]


def thanks_endings(texts: Sequence[str | None], thanks_markers: tuple[str, ...]) -> dict:
    """Index -> the text from its last thanking sentence (one with a sentiment_thanks_markers
    match) to its end, for texts where a story comes before that thanks: "Ich war heute um 9
    am Fundbüro. Die Dame hat zuerst nichts gefunden ... Herzlichen Dank für den Tipp, das hat
    mir sehr geholfen." Read whole, the story's problem words outweigh the thanks; read from the
    thanks on, the ending says how the person feels now. Whatever follows the thanks stays in
    ("Danke für die Antwort. Aber das ist ein Witz." is read whole, as it begins with it)."""
    if not thanks_markers:
        return {}
    endings = {}
    for index, text in enumerate(texts):
        if not text or not matches_marker(text, thanks_markers):
            continue
        parts = sentences(text)
        for position in range(len(parts) - 1, 0, -1):
            if matches_marker(parts[position], thanks_markers):
                endings[index] = " ".join(parts[position:])
                break
    return endings


def score_messages(texts: Sequence[str | None], platform_langs: Sequence[str | None],
                   settings: SentimentSettings) -> list[Sentiment]:
    """Language, score, label and probabilities of each message, as int_message_sentiment
    stores them; messages are scored in one batch per model."""
    scored = score_message_arrays(texts, platform_langs, settings)
    labels = scored.label_indexes.tolist()
    results = []
    for lang, has_text, (negative, neutral, positive), label in zip(
            scored.langs, scored.has_text.tolist(), scored.probabilities.tolist(), labels,
            strict=True):
        results.append(Sentiment(lang, positive - negative, LABELS[label], negative, neutral,
                                 positive) if has_text else Sentiment(lang, None, None))
    return results


def score_message(text: str | None, platform_lang: str | None,
                  settings: SentimentSettings) -> Sentiment:
    """Language, score, label and probabilities of one message."""
    return score_messages([text], [platform_lang], settings)[0]


_COURTESY_NOISE = re.compile(r"https?://\S+|www\.\S+|@\w+")
# One thumbs up or OK hand (any skin tone) and nothing else: the emoji for "ok", as a plain
# answer to a plain answer. Two of them ("👍👍") or another emoji beside it is feeling.
_ACKNOWLEDGEMENT = re.compile("[\U0001F44D\U0001F44C\U0001F197\u2705]"
                              "[\U0001F3FB-\U0001F3FF]?\uFE0F?")
_WORD = re.compile(r"[^\W\d_]+")


def is_courtesy_only(text: str | None, courtesy_words: frozenset[str]) -> bool | None:
    """True when a text has words and every one is a courtesy word ("Ok, thanks.", "Danke für
    die Info"): politeness that says nothing of a changed mood. None without text. Links and
    @handles are no words; a text of emojis only ("🙏❤️", "👍👍") is not courtesy but feeling,
    except a lone thumbs up or OK hand ("👍"), the emoji for "ok"."""
    if text is None or not text.strip():
        return None
    lowered = text.lower()
    if "@" in lowered or "http" in lowered or "www" in lowered:
        lowered = _COURTESY_NOISE.sub(" ", lowered)
    words = _WORD.findall(lowered)
    if not words:
        return _ACKNOWLEDGEMENT.fullmatch(lowered.strip()) is not None
    return courtesy_words.issuperset(words)


class _Markers(NamedTuple):
    pattern: re.Pattern
    # each marker alone with the literals (folded as _fold folds a text) of which every match
    # of it contains one; None when some marker has none or must not be searched alone (a group
    # reference: groups are numbered across the joined pattern), then every text is searched
    # with the whole pattern
    alone: tuple[tuple[tuple[str, ...], re.Pattern], ...] | None
    literals: tuple[str, ...] = ()


# Characters that a case-insensitive ASCII letter of a pattern matches besides A-Z (Python's
# re: the dotted and dotless i, the long s, the Kelvin sign), as that letter.
_FOLD_SPECIAL = {0x130: "i", 0x131: "i", 0x17F: "s", 0x212A: "k"}
_SPECIAL = re.compile("[\u0130\u0131\u017f\u212a]")


def _fold(text: str) -> str:
    """The text with every character a case-insensitive ASCII letter matches as that letter
    (and other characters lower-cased: more literal hits, never fewer)."""
    if not text.isascii() and _SPECIAL.search(text):
        text = text.translate(_FOLD_SPECIAL)
    return text.lower()


def _required_literal(marker: str) -> tuple[str, ...] | None:
    """Literals of which every match of a marker contains at least one: the longest run of
    literals at the marker's top level (ASCII ones lower-cased, and characters without case
    such as emojis), or the alternatives of a group every match passes through ("another" or
    "again" in "(great|super),? (another|again)"), whichever is the rarer to find; None when
    there is none, the marker refers to a group or cannot be read alone."""
    try:
        from re import _parser  # the parser re compiles with (Python 3.11+)

        parsed = _parser.parse(marker, re.IGNORECASE)
    except Exception:  # any doubt: no shortcut
        return None
    if re.search(r"\\[1-9]|\(\?P=|\(\?\(", marker):
        return None
    return _required_in(parsed.data, _parser)


def _required_in(items, parser) -> tuple[str, ...] | None:
    """The best required literals of a sequence of parsed items (see _required_literal)."""
    candidates: list[tuple[str, ...]] = []
    run: list[str] = []
    for op, argument in [*items, (None, None)]:
        char = chr(argument) if op is parser.LITERAL else ""
        # ASCII, or a character without case (an emoji: 🙄), which a case-insensitive pattern
        # matches only as itself
        if char and (argument < 128 or char.lower() == char == char.upper()):
            run.append(char.lower())
            continue
        if run:
            candidates.append(("".join(run),))
        run = []
        if op is parser.SUBPATTERN:
            inner = list(argument[3])
            if len(inner) == 1 and inner[0][0] is parser.BRANCH:
                alternatives = [_required_in(list(alt), parser) for alt in inner[0][1][1]]
                if alternatives and None not in alternatives:
                    found = {lit for alt in alternatives for lit in alt}
                    # "yet another" holds "another": finding the shorter one is enough
                    candidates.append(tuple(sorted(lit for lit in found if not any(
                        other != lit and other in lit for other in found))))
            else:
                found = _required_in(inner, parser)
                if found:
                    candidates.append(found)
    if not candidates:
        return None
    # the rarer to find: the longest shortest literal, then the fewest alternatives
    return max(candidates, key=lambda lits: (min(map(len, lits)), -len(lits)))


@functools.lru_cache(maxsize=64)
def _marker_pattern(markers: tuple[str, ...]) -> _Markers | None:
    if not markers:
        return None
    pattern = re.compile("|".join(f"(?:{marker})" for marker in markers), re.IGNORECASE)
    literals = [_required_literal(marker) for marker in markers]
    alone = None if None in literals else tuple(
        (literal, re.compile(marker, re.IGNORECASE))
        for literal, marker in zip(literals, markers, strict=True))
    return _Markers(pattern, alone,
                    tuple(lit for alts in literals for lit in alts) if alone else ())


def matches_marker(text: str | None, markers: tuple[str, ...]) -> bool | None:
    """Whether a text matches one of the markers (regular expressions, case-insensitive;
    dbt vars mrm_churn_markers / mrm_retention_markers); None without text."""
    if text is None or not text.strip():
        return None
    compiled = _marker_pattern(markers)
    if compiled is None:
        return False
    if compiled.alone is None:
        return bool(compiled.pattern.search(text))
    # The joined pattern matches where one marker does. A marker is searched only in a text
    # holding its literal: most texts hold none, and one marker alone is searched fast.
    folded = _fold(text)
    if not any(map(folded.__contains__, compiled.literals)):
        return False
    return any(any(map(folded.__contains__, literals)) and pattern.search(text) is not None
               for literals, pattern in compiled.alone)


def settings_from_vars(dbt_vars: Mapping[str, Any],
                       override_rows: Iterable[Mapping[str, Any]]) -> SentimentSettings:
    """Settings from the sentiment_detect_languages, sentiment_min_letters_to_detect,
    sentiment_sarcasm_markers and sentiment_thanks_markers dbt vars (as the model's config
    hands them over, or as dbt_project.yml sets them) and the rows
    of the sentiment_lexicon_overrides seed (columns
    token, valence); an empty sentiment_detect_languages allows every language."""
    languages = dbt_vars["sentiment_detect_languages"]
    overrides = {str(row["token"]): float(row["valence"]) for row in override_rows}
    return SentimentSettings(
        detect_languages=tuple(languages) if languages else None,
        min_letters_to_detect=int(dbt_vars["sentiment_min_letters_to_detect"]),
        overrides=tuple(sorted(overrides.items())),
        sarcasm_markers=tuple(str(marker) for marker in
                              dbt_vars.get("sentiment_sarcasm_markers") or ()),
        thanks_markers=tuple(str(marker) for marker in
                             dbt_vars.get("sentiment_thanks_markers") or ()),
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
