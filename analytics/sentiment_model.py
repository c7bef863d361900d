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

The strings are hashed (MurmurHash3 by mmh3, as scikit-learn's murmurhash3_32), so a model
file holds weights for hash buckets and no text of the data it was trained on. A model file
is an .npz: the non-zero weights per class (bucket, weight), the intercepts, a temperature
that calibrates the probabilities on held-out data of the language, the lexicon used and a
JSON model card.
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
    return _normalise(text, None)


def _normalise(text: str, stretched: int | None) -> str:
    """normalise(); `stretched`, when known, is the number of letter runs in `text`."""
    # A pattern that cannot match is skipped (a link needs "http" or "www", a handle "@",
    # skin tones and joiners are not ASCII); most of the speed of this function on a night.
    if "http" in text or "www" in text:
        text = _URL.sub(" httpurl ", text)
    if "@" in text:
        text = _HANDLE.sub(" @user ", text)
    removed = 0
    if not text.isascii():
        text, removed = _EMOJI_NOISE.subn("", text)
    # links and handles become words between spaces, so only removed noise can make a new
    # letter run ("aa\ufe0fa")
    if stretched == 0 and not removed:
        return text
    return _STRETCH.sub(r"\1\1", text)


def tokens(text: str) -> list[str]:
    """Lower-cased tokens of a normalised text (its "@user" is the two tokens "@", "user")."""
    return [token.lower() for token in _TOKEN.findall(text)]


def _buckets(features: Sequence[str]) -> np.ndarray:
    """The hash bucket of each feature string (int64): MurmurHash3 (x86, 32 bits, seed 0,
    unsigned) of its UTF-8 bytes, by mmh3, which gives what scikit-learn's
    murmurhash3_32(s, positive=True) gives without importing scikit-learn when scoring."""
    import mmh3

    hashed = np.fromiter((mmh3.hash(feature, 0, False) for feature in features),
                         dtype=np.int64, count=len(features))
    return hashed & _BUCKET_MASK


def _bucket(feature: str) -> int:
    return int(_buckets([feature])[0])


_BUCKET_MASK = 2**HASH_BITS - 1
_CAPITAL_WORD = re.compile(r"\b[^\W\d_]{3,}\b")
# an ASCII word in capitals has three capitals in a row
_THREE_CAPITALS = re.compile("[A-Z]{3}")


def _word_features(word: str) -> list[str]:
    """The feature strings of a word: the word itself and, for words of letters, its
    character 3-5-grams."""
    features = ["w" + word]
    if len(word) > 2 and word[0].isalpha() and word != "httpurl":
        padded = f"<{word.rstrip('~')}>"
        features.extend(
            "c" + padded[start:start + size]
            for size in (3, 4, 5)
            for start in range(len(padded) - size + 1)
        )
    return features


@dataclass(frozen=True)
class Lexicon:
    """Word valences (any scale; summed as given) and emoji valences."""

    words: dict[str, float]
    emojis: dict[str, float]


# What a token is to analyse(): its role, its word(s) and buckets, its lexicon valences.
_CLAUSE, _NEGATOR, _WORD = 0, 1, 2
# Entries the per-lexicon caches hold before they start over (bounds memory on long nights).
_CACHE_ENTRIES = 200_000


class _Analyser:
    """analyse() for one lexicon, fast: what a token means (role, word, buckets, valences) is
    worked out once per distinct token and kept, and so is each bigram's bucket; new tokens
    and bigrams of a batch of texts are hashed together. Lexicons are not changed after they
    are built (model_for builds a new one for overrides), so the caches stay right."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._tokens: dict[str, tuple] = {}
        self._bigrams: dict[tuple[str, str], int] = {}
        self._lengths = _buckets([f"n{size}" for size in range(11)]).tolist()

    def _learn(self, token_lists: list[list[str]]) -> None:
        """Cache (role, word, buckets, the parts of its buckets when negated, word valence,
        emoji valence) of each token not cached yet, as the tokeniser found it (before
        lower-casing)."""
        new = set().union(*token_lists)
        new.difference_update(self._tokens)
        if not new:
            return
        if len(self._tokens) + len(new) > _CACHE_ENTRIES:
            self._tokens.clear()
            new = set().union(*token_lists)
        parts, features = [], []
        for raw_token in new:
            token = raw_token.lower()
            valence = emoji_valence = None
            if token in _CLAUSE_END or token[0] in "!?":
                role, word = _CLAUSE, token[:2]
            else:
                bare = token.replace("'", "").replace("’", "")
                if bare in NEGATORS or bare.endswith("nt") and token.endswith(("n't", "n’t")):
                    role, word = _NEGATOR, bare
                else:
                    role, word = _WORD, token.lstrip("#") or token
                    valence = self.lexicon.words.get(word)
                    if valence is None and len(token) <= 2:
                        emoji_valence = self.lexicon.emojis.get(token)
            start = len(features)
            features.extend(_word_features(word))
            middle = len(features)
            if role == _WORD:
                # "word~" has the character n-grams of "word" when "word" has any (they
                # are the n-grams of "<word>"), so only its own bucket is new
                features.extend(["w" + word + "~"] if middle - start > 1
                                else _word_features(word + "~"))
            parts.append((raw_token, role, word, start, middle, len(features), valence,
                          emoji_valence))
        buckets = _buckets(features)
        for raw_token, role, word, start, middle, end, valence, emoji_valence in parts:
            plain = buckets[start:middle]
            negated = None
            if end > middle:
                negated = ((buckets[middle:end], plain[1:]) if len(plain) > 1
                           else (buckets[middle:end],))
            self._tokens[raw_token] = (role, word, plain, negated, valence, emoji_valence)

    def _bigram_buckets(self, pairs: list[tuple[str, str]]) -> np.ndarray:
        """The bucket of each bigram (first word, second word)."""
        found = list(map(self._bigrams.get, pairs))
        if None in found:
            missing = [index for index, bucket in enumerate(found) if bucket is None]
            new = list({pairs[index] for index in missing})
            if len(self._bigrams) + len(new) > _CACHE_ENTRIES:
                self._bigrams.clear()
            known = dict(zip(new, _buckets([f"b{first} {second}" for first, second in new])
                             .tolist(), strict=True))
            self._bigrams.update(known)
            for index in missing:
                found[index] = known[pairs[index]]
        return np.array(found, dtype=np.int64)

    def _analyse(self, text: str, stretched: int, raw: str, raw_tokens: list[str]):
        """(bucket arrays of the words, the bigrams, the length bucket, the dense features) of
        a text whose tokens are all cached."""
        if raw.isascii() and not _THREE_CAPITALS.search(raw):
            capitals = 0
        else:
            capitals = sum(1 for word in _CAPITAL_WORD.findall(raw) if word.isupper())
        groups: list[np.ndarray] = []
        words: list[str] = []
        positive = negative = 0.0
        emoji_positive = emoji_negative = 0.0
        negated = False
        for role, word, buckets, negated_buckets, valence, emoji_valence in map(
                self._tokens.__getitem__, raw_tokens):
            if role != _WORD:  # a clause end or a negator: a word of its own, never negated
                negated = role == _NEGATOR
            elif valence is not None:
                if negated:
                    valence = -0.5 * valence
                if valence > 0:
                    positive += valence
                else:
                    negative -= valence
            elif emoji_valence is not None:
                if emoji_valence > 0:
                    emoji_positive += emoji_valence
                else:
                    emoji_negative -= emoji_valence
            if negated and role == _WORD:
                words.append(word + "~")
                groups.extend(negated_buckets)
            else:
                words.append(word)
                groups.append(buckets)
        pairs = list(zip(words, words[1:], strict=False))
        # length: a long text with a link is more often a neutral news item than a short post
        length = self._lengths[min(len(words) // 8, 10)]
        dense = [
            math.tanh(positive / 4.0),
            math.tanh(negative / 4.0),
            math.tanh(emoji_positive / 4.0),
            math.tanh(emoji_negative / 4.0),
            min(raw.count("!"), 3) / 3.0,
            min(raw.count("?"), 3) / 3.0,
            min(capitals, 3) / 3.0,
            min(stretched, 2) / 2.0,
            # praise and complaint words in one post: mixed feelings or sarcasm ("Brilliant,
            # the machine ate my note")
            math.tanh(min(positive, negative) / 2.0),
        ]
        return groups, pairs, length, dense

    def _tokenised(self, texts: Sequence[str]) -> list[tuple[str, int, str, list[str]]]:
        """Each text with its letter runs, normalised text and tokens; new tokens learnt."""
        tokenised = []
        for text in texts:
            stretched = len(_STRETCH.findall(text))
            raw = _normalise(text, stretched)
            tokenised.append((text, stretched, raw, _TOKEN.findall(raw)))
        self._learn([raw_tokens for _, _, _, raw_tokens in tokenised])
        return tokenised

    def analyse(self, text: str) -> tuple[list[int], list[float]]:
        """analyse() of one text."""
        groups, pairs, length, dense = self._analyse(*self._tokenised([text])[0])
        return ([bucket for group in groups for bucket in group.tolist()]
                + self._bigram_buckets(pairs).tolist() + [length], dense)

    def hashed(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The texts' distinct buckets, row after row, sorted within a row (indptr, indices),
        and their dense features (len(texts), N_DENSE)."""
        n = len(texts)
        word_arrays: list[np.ndarray] = []
        words_per_row = np.empty(n, dtype=np.int64)
        pairs: list[tuple[str, str]] = []
        pairs_per_row = np.empty(n, dtype=np.int64)
        lengths = np.empty(n, dtype=np.int64)
        dense = []
        for row, tokenised in enumerate(self._tokenised(texts)):
            groups, row_pairs, lengths[row], values = self._analyse(*tokenised)
            word_arrays.extend(groups)
            words_per_row[row] = len(groups)
            pairs.extend(row_pairs)
            pairs_per_row[row] = len(row_pairs)
            dense.append(values)
        # one key per (row, bucket), sorted: duplicates side by side, rows in order
        rows = np.arange(n, dtype=np.int64)
        word_rows = np.repeat(np.repeat(rows, words_per_row),
                              np.fromiter(map(len, word_arrays), dtype=np.int64,
                                          count=len(word_arrays)))
        keys = np.concatenate([
            (word_rows << HASH_BITS) | np.concatenate([*word_arrays, np.empty(0, np.int64)]),
            (np.repeat(rows, pairs_per_row) << HASH_BITS) | self._bigram_buckets(pairs),
            (rows << HASH_BITS) | lengths,
        ])
        keys.sort()
        distinct = np.ones(len(keys), dtype=bool)
        np.not_equal(keys[1:], keys[:-1], out=distinct[1:])
        keys = keys[distinct]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(keys >> HASH_BITS, minlength=n), out=indptr[1:])
        return (indptr, (keys & _BUCKET_MASK).astype(np.int32),
                np.array(dense, dtype=np.float64).reshape(n, N_DENSE))


def analyse(text: str, lexicon: Lexicon) -> tuple[list[int], list[float]]:
    """The hash buckets of the text's words, n-grams and bigrams, and its dense features."""
    return _Analyser(lexicon).analyse(text)


def _hashed_matrix(indptr: np.ndarray, indices: np.ndarray):
    """Binary hashed features, each row L2-normalised (scipy CSR, rows as given)."""
    import scipy.sparse as sparse

    counts = np.diff(indptr)
    row_norms = np.sqrt(counts.astype(np.float64))
    row_norms[row_norms == 0] = 1.0
    data = np.repeat(1.0 / row_norms, counts)
    return sparse.csr_matrix((data, indices, indptr), shape=(len(counts), 2**HASH_BITS))


def featurise(texts: Sequence[str], lexicon: Lexicon):
    """The feature matrix (scipy CSR): binary hashed features, each row L2-normalised, then
    the dense features."""
    import scipy.sparse as sparse

    indptr, indices, dense = _Analyser(lexicon).hashed(texts)
    hashed = _hashed_matrix(indptr, indices)
    hashed.has_sorted_indices = True
    return sparse.hstack([hashed, sparse.csr_matrix(dense)], format="csr")


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


# An ASCII letter that starts a token of letters (no letter or apostrophe before it) and
# cannot belong to an emoticon (":D", ":p", ":o"): the token is a word, so the text has one.
# Most texts have one; finding it spares them the tokenising below.
_WORD_START = re.compile(r"(?<![^\W\d_])(?<!['’])[a-ce-nq-zA-CE-NQ-Z]")


def emoji_only_compound(text: str, lexicon: Lexicon) -> float | None:
    """For a text without words (only emojis, emoticons, punctuation): VADER's normalised sum
    of the valences the lexicon gives its emojis and emoticons, in [-1, 1]; None when the text
    has a word or no such sign. A trained model has seen too few such messages ("🙏❤️",
    "👍👍") to score them; the lexicon knows them."""
    raw = _URL.sub(" ", text) if "http" in text or "www" in text else text
    raw = _EMOJI_NOISE.sub("", _HANDLE.sub(" ", raw) if "@" in raw else raw)
    if _WORD_START.search(raw):
        return None
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
        self.intercept = np.asarray(intercept, dtype=np.float64)
        self.temperature = float(temperature)
        self.lexicon = lexicon
        self.card = card
        self._dense_weights: np.ndarray | None = None
        self._analyser: _Analyser | None = None

    def with_lexicon(self, lexicon: Lexicon) -> SentimentModel:
        """The same model with another lexicon (overrides), sharing the weights in memory."""
        model = SentimentModel(self.weights, self.intercept, self.temperature, lexicon,
                               self.card)
        model._dense_weights = self._weights_for_scoring()
        return model

    def _weights_for_scoring(self) -> np.ndarray:
        # dense for scoring: a sparse row times a dense matrix is one pass over the row
        if self._dense_weights is None:
            self._dense_weights = np.asarray(self.weights.toarray(), dtype=np.float64)
        return self._dense_weights

    def _analyser_for_lexicon(self) -> _Analyser:
        if self._analyser is None or self._analyser.lexicon is not self.lexicon:
            self._analyser = _Analyser(self.lexicon)
        return self._analyser

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        indptr, indices, dense = self._analyser_for_lexicon().hashed(texts)
        weights = self._weights_for_scoring()
        logits = np.asarray(_hashed_matrix(indptr, indices) @ weights[:2**HASH_BITS])
        # the dense features added one by one, as the product of featurise()'s matrix adds
        # them: a row's logits do not depend on the other rows of its batch (a BLAS product
        # might sum in another order for another batch shape)
        for position in range(N_DENSE):
            logits += dense[:, position, None] * weights[2**HASH_BITS + position]
        return logits + self.intercept

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
