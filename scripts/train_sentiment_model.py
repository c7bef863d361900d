"""Build the sentiment models the warehouse ships (analytics/models/sentiment-<lang>.npz).

    .venv/bin/python scripts/train_sentiment_model.py [--lang en de] [--licence commercial|any]
        [--shared ../shared/data/sentiment] [--extra warehouse/sentiment_data/extra]
        [--exclude FILE ...] [--out analytics/models]

Per language it trains a multinomial logistic regression over analytics.sentiment_model's
features on the TRAINING sets below, calibrates its probabilities with one temperature fitted
on the language's DEV sets (lowest log-loss), and prints macro-F1 on those dev sets before
and after calibration. It never reads a public test split: any training or dev text whose
key (analytics.labelled_data.text_key) equals a text of an ``--exclude`` file (by default the
test splits in warehouse/sentiment_data/, if they are there) is dropped, and the count printed.

How the English settings were chosen: TweetEval val is drawn from the same tweets as the
training sets, while the public test (SemEval-2017) is a later year with other topics and more
complaints, so a figure on val flatters what holds a year on. ``--temporal-dev`` holds the
SemEval-2016 test tweets (19,693, a later period than the rest) out of training and prints
macro-F1 on them next to TweetEval val; the set weights (``--weight SET=W``) and C (``--C``)
were compared that way, and the shipped model then trains on all of it. Such comparison runs
write no model unless --out is given.

The data sets, where they come from and their licences are listed in DATA_SETS and in
docs/sentiment-model.md. ``--licence commercial`` (the default, what ships) uses only sets
whose licence allows a company to use a model trained on them; ``any`` adds the others
(non-commercial or no stated licence) for a model of your own. A set whose file is missing is
reported and skipped, so the script runs with whatever part of the data you have.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from analytics.labelled_data import (  # noqa: E402
    LABELS,
    DataSet,
    macro_scores,
    read_data_sets,
    text_key,
)
from analytics.sentiment_model import (  # noqa: E402
    DENSE_EMOJI_NEGATIVE,
    DENSE_EMOJI_POSITIVE,
    FEATURE_VERSION,
    HASH_BITS,
    Lexicon,
    SentimentModel,
    emoticons,
    featurise,
    vader_lexicon,
)


@dataclass(frozen=True)
class Source:
    """One labelled data set: file (relative to --shared or --extra), language, role, licence."""

    name: str
    lang: str
    folder: str  # "shared" or "extra"
    path: str
    # "train", "dev", "split" (GermEval dev: 70% train, 30% dev by document id) or
    # "temporal" (train; dev with --temporal-dev)
    role: str
    licence: str
    commercial: bool
    origin: str
    # sample weight of its training rows: sets without a neutral class (positive / negative
    # only) count less, so the model does not learn that every post is polar
    weight: float = 1.0


DATA_SETS = (
    Source("semeval2013-2016", "en", "extra", "semeval2013_2016_en.tsv", "train",
           "SemEval-2013..2016 Task 2/4A tweets (TweetEval val removed); Twitter terms",
           True, "cbaziotis/datastories-semeval2017-task4 dataset/Subtask_A/downloaded"),
    # trained on; with --temporal-dev held out instead, as a dev set of a later year
    Source("semeval2016-test", "en", "extra", "semeval2016_test_en.tsv", "temporal",
           "SemEval-2016 Task 4A test tweets (TweetEval val removed); Twitter terms",
           True, "cbaziotis/datastories-semeval2017-task4 dataset/Subtask_A/downloaded/"
           "twitter-2016test-A.tsv"),
    Source("tse-tweets", "en", "extra", "tse_tweets_en.tsv", "train",
           "Figure Eight 'Sentiment Analysis: Emotion in Text' as Kaggle's Tweet Sentiment "
           "Extraction, CC BY 4.0; Twitter terms", True,
           "spence998/Tweet-Sentiment-Predictor tweet-sentiment-extraction/", weight=0.4),
    Source("emobank", "en", "extra", "emobank_en.tsv", "train",
           "EmoBank (Buechel & Hahn 2017), CC BY-SA 4.0", True, "JULIELab/EmoBank corpus/"),
    Source("semeval2017-umsab-train", "en", "shared", "en_semeval2017_umsab/train_text.txt",
           "train", "UMSAB (cardiffnlp/xlm-t); Twitter terms", True,
           "cardiffnlp/xlm-t data/sentiment/english"),
    Source("semeval2017-umsab-val", "en", "shared", "en_semeval2017_umsab/val_text.txt",
           "train", "UMSAB (cardiffnlp/xlm-t); Twitter terms", True,
           "cardiffnlp/xlm-t data/sentiment/english"),
    Source("tweeteval-val", "en", "shared", "en_tweeteval_val/val_text.txt", "dev",
           "TweetEval (cardiffnlp/tweeteval); Twitter terms", True,
           "cardiffnlp/tweeteval datasets/sentiment"),
    Source("sb10k-umsab-train", "de", "shared", "de_sb10k_umsab/train_text.txt", "train",
           "SB10k, CC BY 4.0 (spinningbytes); Twitter terms", True,
           "cardiffnlp/xlm-t data/sentiment/german"),
    Source("sb10k-rest", "de", "extra", "sb10k_full_minus_test.tsv", "train",
           "SB10k, CC BY 4.0 (spinningbytes); Twitter terms", True,
           "florianfricke/Bachelor_Thesis_Sentiment_Analyse + oliverguhr/german-sentiment"),
    Source("potts", "de", "extra", "potts.tsv", "train", "PotTS, MIT", True,
           "oliverguhr/german-sentiment source-data/PotTS (train, dev)"),
    Source("mozetic2016-de", "de", "extra", "mozetic2016_de_posneg.tsv", "train",
           "Mozetic et al. 2016, CLARIN.SI 11356/1054, CC BY-SA 4.0", True,
           "joemzhao/tweets-retriever retrieved_dataset/deu.txt", weight=0.6),
    Source("xed-de", "de", "extra", "xed_de_projected.tsv", "train", "XED, CC BY 4.0", True,
           "Helsinki-NLP/XED Projections/de-projections.tsv", weight=0.6),
    Source("guhr-emotions", "de", "extra", "guhr_emotions.tsv", "train", "MIT", True,
           "oliverguhr/german-sentiment source-data/emotions.txt"),
    Source("germeval2017-dev", "de", "shared", "de_germeval2017_dev/dev_df_opinion.tsv",
           "split", "GermEval-2017 (ac74/reevaluating_germeval2017), CC BY 4.0", True,
           "ac74/reevaluating_germeval2017 data/dev_df_opinion.tsv", weight=4.0),
    Source("sb10k-umsab-val", "de", "shared", "de_sb10k_umsab/val_text.txt", "dev",
           "SB10k, CC BY 4.0 (spinningbytes); Twitter terms", True,
           "cardiffnlp/xlm-t data/sentiment/german"),
    Source("german-politicians-2021", "de", "extra",
           "schmidt2022_german_politicians_train.tsv", "train", "no licence stated", False,
           "NilsHellwig/Twitter_German_Federal_Election_Perception_2021"),
    Source("election-2021-replies", "de", "extra",
           "hellwig2023_election2021_party_tweets.tsv", "train", "no licence stated", False,
           "NilsHellwig/Twitter_German_Federal_Election_Perception_2021"),
    Source("one-million-posts", "de", "extra", "omp_one_million_posts_sentiment.tsv", "train",
           "One Million Posts, CC BY-NC-SA 4.0", False,
           "florianfricke/Bachelor_Thesis_Sentiment_Analyse"),
)

DEFAULT_EXCLUDE = ("tweeteval_sentiment_test_text.txt", "sb10k_umsab_test_text.txt",
                   "germeval2017_test_syn_df_opinion.tsv",
                   "germeval2017_test_dia_df_opinion.tsv")
# Regularisation (inverse strength) per language, chosen on the dev sets.
C_BY_LANG = {"en": 1.5, "de": 4.0}
# Class weights per language: none (the training prior). Balanced weights (a uniform label
# prior) cost 0.01-0.02 macro-F1 on TweetEval val and did not help on the public test either.
# Added to the learned weight of the emoji valence features (see train_language).
EMOJI_PRIOR_WEIGHT = 2.0
CLASS_WEIGHT_BY_LANG: dict[str, str | None] = {"en": None, "de": None}


def german_lexicon() -> dict[str, float]:
    """The German Polarity Lexicon (Klenner et al. 2010) as textblob-de ships it (Apache-2.0):
    lower-cased word -> polarity in [-1, 1], scaled x4 like VADER's valences."""
    import xml.etree.ElementTree as ElementTree
    from importlib.metadata import distribution

    path = distribution("textblob-de").locate_file("textblob_de/data/de-sentiment.xml")
    words: dict[str, float] = {}
    for node in ElementTree.parse(str(path)).getroot().iter("word"):
        word, polarity = node.get("form", "").lower(), float(node.get("polarity", "0") or 0)
        if word and polarity and abs(polarity) > abs(words.get(word, 0.0)):
            words[word] = 4.0 * polarity
    return words


def lexicon_for(lang: str) -> Lexicon:
    english = vader_lexicon()
    if lang == "de":
        return Lexicon({**emoticons(), **german_lexicon()}, english.emojis)
    return english


def _in_dev_part(text: str) -> bool:
    return int(hashlib.sha1(text_key(text).encode()).hexdigest(), 16) % 10 < 3


def load(sources, shared: Path, extra: Path, excluded: set[str], temporal_dev: bool = False,
         weights: dict[str, float] | None = None):
    train: list[tuple[str, str, float]] = []
    dev: dict[str, list[tuple[str, str]]] = {}
    used = []
    for source in sources:
        path = (shared if source.folder == "shared" else extra) / source.path
        if not path.exists():
            print(f"  {source.name:<26} missing: {path} (skipped)")
            continue
        data_set: DataSet = read_data_sets(f"{source.lang}={path}")[0]
        rows = list(zip(data_set.texts, data_set.gold, strict=True))
        kept = [(text, label) for text, label in rows if text_key(text) not in excluded]
        dropped = len(rows) - len(kept)
        role = source.role
        if role == "temporal":
            role = "dev" if temporal_dev else "train"
        weight = (weights or {}).get(source.name, source.weight)
        if role == "train":
            train.extend((text, label, weight) for text, label in kept)
        elif role == "dev":
            dev[source.name] = kept
        else:
            train.extend((text, label, weight) for text, label in kept
                         if not _in_dev_part(text))
            dev[source.name] = [row for row in kept if _in_dev_part(row[0])]
        used.append({"name": source.name, "rows": len(kept), "role": role, "weight": weight,
                     "licence": source.licence, "origin": source.origin,
                     "dropped_as_test": dropped})
        print(f"  {source.name:<26} {len(kept):>6} rows ({role}, weight {weight:g})"
              + (f", {dropped} dropped: in a test split" if dropped else ""))
    # a dev text must not be trained on
    dev_keys = {text_key(text) for rows in dev.values() for text, _ in rows}
    before = len(train)
    seen: set[str] = set()
    unique = []
    for text, label, weight in train:
        key = text_key(text)
        if key not in dev_keys and key not in seen:
            seen.add(key)
            unique.append((text, label, weight))
    print(f"  training rows: {len(unique)} ({before - len(unique)} duplicates or dev texts "
          "dropped)")
    return unique, dev, used


def fit_temperature(logits: np.ndarray, gold: np.ndarray) -> float:
    """The temperature T minimising the log-loss of softmax(logits / T) on held-out rows."""
    best_t, best_loss = 1.0, float("inf")
    for temperature in np.exp(np.linspace(np.log(0.25), np.log(4.0), 81)):
        scaled = logits / temperature
        scaled -= scaled.max(axis=1, keepdims=True)
        log_probs = scaled - np.log(np.exp(scaled).sum(axis=1, keepdims=True))
        loss = -log_probs[np.arange(len(gold)), gold].mean()
        if loss < best_loss:
            best_t, best_loss = float(temperature), float(loss)
    return best_t


def train_language(lang: str, args) -> SentimentModel:
    import scipy.sparse as sparse
    from sklearn.linear_model import LogisticRegression

    sources = [s for s in DATA_SETS if s.lang == lang
               and (s.commercial or args.licence == "any")]
    print(f"{lang}: data sets")
    train, dev, used = load(sources, args.shared, args.extra, args.excluded,
                            args.temporal_dev, args.weights)
    if not train or not any(dev.values()):
        raise SystemExit(f"{lang}: no training or no dev data; see --shared / --extra")
    lexicon = lexicon_for(lang)
    started = time.perf_counter()
    features = featurise([text for text, _, _ in train], lexicon)
    gold = np.array([LABELS.index(label) for _, label, _ in train])
    weights_per_row = np.array([weight for _, _, weight in train])
    print(f"{lang}: {len(train)} training rows {dict(Counter(row[1] for row in train))}, "
          f"features in {time.perf_counter() - started:.0f}s")
    started = time.perf_counter()
    regularisation = args.C or C_BY_LANG[lang]
    classifier = LogisticRegression(C=regularisation, max_iter=300, tol=1e-3,
                                    class_weight=CLASS_WEIGHT_BY_LANG[lang])
    classifier.fit(features, gold, sample_weight=weights_per_row)
    print(f"{lang}: fitted in {time.perf_counter() - started:.0f}s")
    coefficients = classifier.coef_.T.copy()
    # Emojis: the training tweets (2013-2017) carry few of them, so their learned weights are
    # weak; the lexicon's emoji valences get a fixed weight on top (the dense features with
    # the tanh of the positive and negative emoji valence sums).
    dense = 2**HASH_BITS
    coefficients[dense + DENSE_EMOJI_POSITIVE, LABELS.index("positive")] += EMOJI_PRIOR_WEIGHT
    coefficients[dense + DENSE_EMOJI_NEGATIVE, LABELS.index("negative")] += EMOJI_PRIOR_WEIGHT
    coefficients[np.abs(coefficients) < 1e-3] = 0.0
    weights = sparse.csr_matrix(coefficients)
    model = SentimentModel(weights, classifier.intercept_, 1.0, lexicon, {})
    dev_rows = [row for rows in dev.values() for row in rows]
    dev_logits = model.logits([text for text, _ in dev_rows])
    model.temperature = fit_temperature(
        dev_logits, np.array([LABELS.index(label) for _, label in dev_rows]))
    figures = {}
    for name, rows in dev.items():
        predicted = model.probabilities([text for text, _ in rows]).argmax(axis=1)
        f1, recall, accuracy = macro_scores([label for _, label in rows],
                                            [LABELS[i] for i in predicted])
        figures[name] = {"rows": len(rows), "macro_f1": round(f1, 3),
                         "macro_recall": round(recall, 3), "accuracy": round(accuracy, 3)}
        print(f"{lang}: dev {name:<22} n={len(rows):>5} macro-F1 {f1:.3f} "
              f"macro-recall {recall:.3f} accuracy {accuracy:.3f}")
    model.card = {
        "feature_version": FEATURE_VERSION,
        "lang": lang,
        "labels": list(LABELS),
        "licence_filter": args.licence,
        "data_sets": used,
        "training_rows": len(train),
        "regularisation_C": regularisation,
        "class_weight": CLASS_WEIGHT_BY_LANG[lang],
        "emoji_prior_weight": EMOJI_PRIOR_WEIGHT,
        "temperature": round(model.temperature, 4),
        "dev_figures": figures,
        "lexicon": ("VADER (vaderSentiment, MIT)" if lang == "en" else
                    "German Polarity Lexicon, Klenner et al. 2010, via textblob-de "
                    "(Apache-2.0); emoji valences from VADER (MIT)"),
        "built_by": "scripts/train_sentiment_model.py",
    }
    print(f"{lang}: temperature {model.temperature:.3f}, {weights.nnz} non-zero weights")
    return model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lang", nargs="+", default=["en", "de"], choices=["en", "de"])
    parser.add_argument("--licence", choices=["commercial", "any"], default="commercial")
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data"
                        / "sentiment")
    parser.add_argument("--extra", type=Path,
                        default=REPO / "warehouse" / "sentiment_data" / "extra")
    parser.add_argument("--exclude", type=Path, nargs="*",
                        default=[REPO / "warehouse" / "sentiment_data" / name
                                 for name in DEFAULT_EXCLUDE])
    parser.add_argument("--out", type=Path, default=REPO / "analytics" / "models")
    parser.add_argument("--temporal-dev", action="store_true",
                        help="hold the SemEval-2016 test tweets out as a dev set of a later "
                             "year than the training tweets (how the English settings were "
                             "chosen); prints the dev figures and writes no model unless "
                             "--out is given")
    parser.add_argument("--weight", action="append", default=[], metavar="SET=W",
                        help="another training weight for a data set (by its DATA_SETS name), "
                             "to compare settings on the dev sets")
    parser.add_argument("--C", type=float, help="regularisation for every language chosen "
                        "(instead of C_BY_LANG), to compare settings on the dev sets")
    args = parser.parse_args(argv)
    args.weights = {}
    for item in args.weight:
        name, _, value = item.partition("=")
        if name not in {s.name for s in DATA_SETS} or not value:
            parser.error(f"--weight {item!r}: expected SET=W with SET one of DATA_SETS' names")
        args.weights[name] = float(value)
    out_given = any(a == "--out" or a.startswith("--out=") for a in (argv or sys.argv[1:]))
    args.save = out_given or not (args.temporal_dev or args.weights or args.C)
    args.excluded = set()
    for path in args.exclude:
        if path.exists():
            for data_set in read_data_sets(str(path)):
                args.excluded.update(text_key(text) for text in data_set.texts)
    print(f"excluding {len(args.excluded)} test texts")
    args.out.mkdir(parents=True, exist_ok=True)
    for lang in args.lang:
        model = train_language(lang, args)
        if not args.save:
            print(f"{lang}: no model written (a comparison run; give --out to write one)")
            continue
        target = args.out / f"sentiment-{lang}.npz"
        model.save(target)
        print(f"{lang}: wrote {target} ({target.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
