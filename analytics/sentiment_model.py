"""The trained sentiment classifier: features of a social-media text and a linear model over them.

One multinomial logistic regression per language (English, German) predicts the probability of
negative, neutral and positive. Its features, all computed here so training
(scripts/train_sentiment_model.py) and scoring (analytics.sentiment) cannot drift apart:

- word unigrams and bigrams of the normalised text (links, @handles and letter runs folded),
  words after a negator ("not", "nicht", "kein", "n't"...) marked as negated up to the end of
  the clause, every emoji and emoticon a word of its own (skin tones and variation selectors
  dropped, so ❤️ is ❤);
- character 3- to 5-grams of each word (German compounds: "Bahn-Chaos", "Mega-Verspätung"),
  cached per word;
- lexicon sums: the positive and negative valence of the words a polarity lexicon knows
  (VADER's for English, the German Polarity Lexicon of Klenner et al. as shipped by
  textblob-de for German), negated words flipped, and the valence VADER gives each emoji;
- counts of "!", "?", words in capitals and stretched words, the text's length, and whether
  praise and complaint words meet in one post (mixed feelings, sarcasm).

The strings are hashed (scikit-learn's FeatureHasher, MurmurHash3), so a model file holds
weights for hash buckets and no text of the data it was trained on. A model file is an .npz:
the non-zero weights per class (bucket, weight), the intercepts, a temperature that calibrates
the probabilities on held-out data of the language, the lexicon used and a JSON model card.
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

LABELS = ("negative", "neutral", "positive")
FEATURE_VERSION = 1
HASH_BITS = 20
N_DENSE = 9
# positions of the emoji valence sums among the dense features (see analyse)
DENSE_EMOJI_POSITIVE = 2
DENSE_EMOJI_NEGATIVE = 3

_URL = re.compile(r"https?://\S+|www\.\S+")
_HANDLE = re.compile(r"@\w+")
_STRETCH = re.compile(r"([^\W\d_])\1{2,}")
# skin tones, variation selectors, zero-width joiners: an emoji's variants are one token
_EMOJI_NOISE = re.compile("[\U0001F3FB-\U0001F3FF\uFE0E\uFE0F\u200D]")
_EMOTICON = r"(?:[:;=8][-o^']?[)(\]\[dDpP/\\|*3oO]+|[)(][-o^']?[:;=]|<3+|\^\^|xD+|XD+)"
_TOKEN = re.compile(
    _EMOTICON + r"|#?[^\W\d_]+(?:['’][^\W\d_]+)?|\d+(?:[.,]\d+)?|[!?]+|[.,;:]|[^\w\s]",
    re.UNICODE,
)
_CLAUSE_END = frozenset({".", ",", ";", ":", "!", "?", "!!", "??", "?!", "!?", "but", "aber",
                         "doch", "sondern"})
NEGATORS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "cannot", "without",
    "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "wont", "cant", "couldnt", "wouldnt",
    "shouldnt", "havent", "hasnt", "aint",
    "nicht", "nichts", "kein", "keine", "keinen", "keinem", "keiner", "keines", "nie",
    "niemals", "ohne", "weder", "nix", "nirgends",
})


def normalise(text: str) -> str:
    """Links and @handles folded to one token each, letter runs of three or more to two."""
    text = _URL.sub(" httpurl ", text)
    text = _HANDLE.sub(" @user ", text)
    text = _EMOJI_NOISE.sub("", text)
    return _STRETCH.sub(r"\1\1", text)


def tokens(text: str) -> list[str]:
    """Lower-cased tokens of a normalised text (its "@user" is the two tokens "@", "user")."""
    return [token.lower() for token in _TOKEN.findall(text)]


def _bucket(feature: str) -> int:
    from sklearn.utils import murmurhash3_32

    return murmurhash3_32(feature, positive=True) & _BUCKET_MASK


_BUCKET_MASK = 2**HASH_BITS - 1


@functools.lru_cache(maxsize=500_000)
def _word_buckets(word: str) -> tuple[int, ...]:
    """Buckets of a word: the word itself and, for words of letters, its character 3-5-grams."""
    buckets = [_bucket("w" + word)]
    if len(word) > 2 and word[0].isalpha() and word != "httpurl":
        padded = f"<{word.rstrip('~')}>"
        buckets.extend(
            _bucket("c" + padded[start:start + size])
            for size in (3, 4, 5)
            for start in range(len(padded) - size + 1)
        )
    return tuple(buckets)


@functools.lru_cache(maxsize=500_000)
def _bigram_bucket(first: str, second: str) -> int:
    return _bucket(f"b{first} {second}")


@dataclass(frozen=True)
class Lexicon:
    """Word valences (any scale; summed as given) and emoji valences."""

    words: dict[str, float]
    emojis: dict[str, float]


def analyse(text: str, lexicon: Lexicon) -> tuple[list[int], list[float]]:
    """The hash buckets of the text's words, n-grams and bigrams, and its dense features."""
    raw = normalise(text)
    stretched = len(_STRETCH.findall(text))
    capitals = sum(1 for word in re.findall(r"\b[^\W\d_]{3,}\b", raw) if word.isupper())
    buckets: list[int] = []
    words: list[str] = []
    positive = negative = 0.0
    emoji_positive = emoji_negative = 0.0
    negated = False
    for token in tokens(raw):
        if token in _CLAUSE_END or token[0] in "!?":
            negated = False
            words.append(token[:2])
            continue
        bare = token.replace("'", "").replace("’", "")
        if bare in NEGATORS or bare.endswith("nt") and token.endswith(("n't", "n’t")):
            negated = True
            words.append(bare)
            continue
        word = token.lstrip("#") or token
        valence = lexicon.words.get(word)
        if valence is None and len(token) <= 2:
            valence = lexicon.emojis.get(token)
            if valence is not None:
                if valence > 0:
                    emoji_positive += valence
                else:
                    emoji_negative -= valence
                valence = None
        if valence is not None:
            if negated:
                valence = -0.5 * valence
            if valence > 0:
                positive += valence
            else:
                negative -= valence
        words.append(word + "~" if negated else word)
    for word in words:
        buckets.extend(_word_buckets(word))
    buckets.extend(_bigram_bucket(first, second)
                   for first, second in zip(words, words[1:], strict=False))
    # length: a long text with a link is more often a neutral news item than a short post
    buckets.append(_bucket(f"n{min(len(words) // 8, 10)}"))
    dense = [
        math.tanh(positive / 4.0),
        math.tanh(negative / 4.0),
        math.tanh(emoji_positive / 4.0),
        math.tanh(emoji_negative / 4.0),
        min(raw.count("!"), 3) / 3.0,
        min(raw.count("?"), 3) / 3.0,
        min(capitals, 3) / 3.0,
        min(stretched, 2) / 2.0,
        # praise and complaint words in one post: mixed feelings or sarcasm ("Brilliant, the
        # machine ate my note")
        math.tanh(min(positive, negative) / 2.0),
    ]
    return buckets, dense


def featurise(texts: Sequence[str], lexicon: Lexicon):
    """The feature matrix (scipy CSR): binary hashed features, each row L2-normalised, then
    the dense features."""
    import scipy.sparse as sparse

    analysed = [analyse(text, lexicon) for text in texts]
    lengths = np.fromiter((len(buckets) for buckets, _ in analysed), dtype=np.int64,
                          count=len(analysed))
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.fromiter((bucket for buckets, _ in analysed for bucket in buckets),
                          dtype=np.int32, count=int(indptr[-1]))
    hashed = sparse.csr_matrix((np.ones(len(indices)), indices, indptr),
                               shape=(len(analysed), 2**HASH_BITS))
    hashed.sum_duplicates()
    hashed.data[:] = 1.0
    row_norms = np.sqrt(np.diff(hashed.indptr).astype(np.float64))
    row_norms[row_norms == 0] = 1.0
    hashed.data /= np.repeat(row_norms, np.diff(hashed.indptr))
    dense = sparse.csr_matrix(np.array([values for _, values in analysed], dtype=np.float64)
                              .reshape(len(analysed), N_DENSE))
    return sparse.hstack([hashed, dense], format="csr")


# Emojis VADER gives no valence (its English descriptions carry no sentiment word) that carry
# one in conversations with a brand: thanks, approval, anger. VADER's scale (-4..4).
EMOJI_VALENCES = {
    "🙏": 2.0, "👍": 2.0, "👏": 2.0, "💯": 1.5, "🤩": 3.0, "💪": 1.5, "🙌": 2.0,
    "😡": -3.0, "🤬": -3.2, "👎": -2.0, "🙄": -1.5, "😒": -1.5, "💩": -2.0, "😤": -2.0,
}


def vader_lexicon() -> Lexicon:
    """VADER's English word valences (emoticons included) and the valence VADER gives each
    emoji alone, completed by EMOJI_VALENCES."""
    return Lexicon(dict(_vader_words()), {**dict(_vader_emojis()), **EMOJI_VALENCES})


def emoticons() -> dict[str, float]:
    """VADER's emoticons (":)", ":-(", "<3", ":D"...): its lexicon entries that are no word."""
    return {token: valence for token, valence in _vader_words()
            if not token.replace("'", "").isalnum()}


def emoji_only_compound(text: str, lexicon: Lexicon) -> float | None:
    """For a text without words (only emojis, emoticons, punctuation): VADER's normalised sum
    of the valences the lexicon gives its emojis and emoticons, in [-1, 1]; None when the text
    has a word or no such sign. A trained model has seen too few such messages ("🙏❤️",
    "👍👍") to score them; the lexicon knows them."""
    raw = _EMOJI_NOISE.sub("", _HANDLE.sub(" ", _URL.sub(" ", text)))
    total, found = 0.0, False
    for token in tokens(raw):
        if token[0].isalpha() or token[0] == "#":
            return None
        valence = lexicon.emojis.get(token, lexicon.words.get(token))
        if valence is not None:
            total, found = total + valence, True
    if not found or total == 0.0:
        return None
    return total / math.sqrt(total * total + 15.0)


@functools.cache
def _vader_words() -> tuple[tuple[str, float], ...]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return tuple(SentimentIntensityAnalyzer().lexicon.items())


@functools.cache
def _vader_emojis() -> tuple[tuple[str, float], ...]:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    valences = []
    for emoji in analyzer.emojis:
        compound = max(min(analyzer.polarity_scores(emoji)["compound"], 0.9999), -0.9999)
        valence = compound * math.sqrt(15.0 / (1.0 - compound * compound))
        if valence:
            valences.append((_EMOJI_NOISE.sub("", emoji), valence))
    return tuple(valences)


class SentimentModel:
    """A trained model of one language: probabilities of LABELS for texts."""

    def __init__(self, weights, intercept, temperature: float, lexicon: Lexicon,
                 card: dict) -> None:
        self.weights = weights  # CSR, (n_features, 3): what is saved
        # dense for scoring: a sparse row times a dense matrix is one pass over the row
        self._dense_weights = np.asarray(weights.toarray(), dtype=np.float64)
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self.lexicon = lexicon
        self.card = card

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        features = featurise(texts, self.lexicon)
        return np.asarray(features @ self._dense_weights) + self.intercept

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), 3) calibrated probabilities of negative, neutral, positive."""
        if not texts:
            return np.zeros((0, 3))
        logits = self.logits(texts) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        probabilities = exp / exp.sum(axis=1, keepdims=True)
        for row, text in enumerate(texts):
            compound = emoji_only_compound(text, self.lexicon)
            if compound is not None:
                # the sign decides the label; the strength moves mass from neutral
                strength = 0.5 + abs(compound) / 2.0
                probabilities[row] = ((strength, 1.0 - strength, 0.0) if compound < 0
                                      else (0.0, 1.0 - strength, strength))
        return probabilities

    def save(self, path: Path) -> None:
        weights = self.weights.tocoo()
        words = sorted(self.lexicon.words.items())
        emojis = sorted(self.lexicon.emojis.items())
        np.savez_compressed(
            path,
            rows=weights.row.astype(np.int32),
            cols=weights.col.astype(np.int8),
            values=weights.data.astype(np.float32),
            intercept=self.intercept,
            temperature=np.array([self.temperature]),
            lexicon_words=np.array([word for word, _ in words], dtype=str),
            lexicon_word_valences=np.array([value for _, value in words], dtype=np.float32),
            lexicon_emojis=np.array([emoji for emoji, _ in emojis], dtype=str),
            lexicon_emoji_valences=np.array([value for _, value in emojis], dtype=np.float32),
            card=np.array(json.dumps(self.card, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: Path) -> SentimentModel:
        import scipy.sparse as sparse

        with np.load(path, allow_pickle=False) as stored:
            card = json.loads(str(stored["card"]))
            if card.get("feature_version") != FEATURE_VERSION:
                raise ValueError(
                    f"{path}: built for feature version {card.get('feature_version')}, this "
                    f"code computes version {FEATURE_VERSION}; rebuild it with "
                    "scripts/train_sentiment_model.py")
            n_features = 2**HASH_BITS + N_DENSE
            weights = sparse.csr_matrix(
                (stored["values"].astype(np.float64),
                 (stored["rows"], stored["cols"].astype(np.int32))),
                shape=(n_features, len(LABELS)))
            lexicon = Lexicon(
                dict(zip(stored["lexicon_words"].tolist(),
                         stored["lexicon_word_valences"].astype(float).tolist(), strict=True)),
                dict(zip(stored["lexicon_emojis"].tolist(),
                         stored["lexicon_emoji_valences"].astype(float).tolist(), strict=True)))
            return cls(weights, stored["intercept"], float(stored["temperature"][0]), lexicon,
                       card)
