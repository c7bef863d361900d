"""Accuracy and speed of the warehouse's sentiment scorer on labelled public data sets.

    .venv/bin/python benchmarks/sentiment_accuracy.py [--detect] [--repeat N] [LANG=]PATH...

Each PATH is one labelled data set, or a folder whose data sets are all read:

- ``<prefix>text.txt`` with ``<prefix>labels.txt`` beside it, one tweet and one label per
  line, 0 negative / 1 neutral / 2 positive (TweetEval sentiment and the UMSAB splits of
  cardiffnlp/xlm-t: SemEval-2017 English, SB10k German);
- a GermEval-2017 ``*_df_opinion.tsv`` (ac74/reevaluating_germeval2017): one row per aspect,
  deduplicated here to one per document ``id``, whose ``sentiment`` column is the document's
  polarity toward Deutsche Bahn.

A data set's language is ``LANG=`` when given, else German for GermEval and for paths that name
SB10k, German or ``de_``, else English. It reaches the scorer as the platform's language field
does in the warehouse (X sends ``lang`` with every tweet); ``--detect`` leaves it out, so the
scorer detects the language as it does for messages without one.

Scoring is analytics.sentiment.score_message with the project's settings (dbt vars and the
overrides seed, as int_message_sentiment gets them). Per data set it prints macro-F1 over the
three labels, macro-recall (TweetEval's official figure), accuracy and the accuracy of always
answering the commonest label, then messages/s of scoring on one thread (the fastest of
``--repeat`` passes; the first call's lexicon loading is not counted). See docs/metrics.md
for the public test splits, where to get them and today's figures.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from analytics.labelled_data import macro_scores, read_data_sets
from analytics.sentiment import project_settings, score_message, score_messages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", metavar="[LANG=]PATH")
    parser.add_argument("--detect", action="store_true",
                        help="give the scorer no language: it detects it, as for messages "
                             "whose platform names none")
    parser.add_argument("--repeat", type=int, default=1,
                        help="scoring passes per data set for msg/s (the fastest counts)")
    args = parser.parse_args(argv)
    data_sets = [data_set for argument in args.paths for data_set in read_data_sets(argument)]
    settings = project_settings()
    for lang in ("en", "de"):  # load the models and the language detector before timing
        score_message("warm up", lang, settings)
        score_message("warm up", None, settings)

    print(f"{'data set':<48} {'lang':>6} {'n':>6} {'macro-F1':>8} {'m-recall':>8} "
          f"{'accuracy':>8} {'majority':>8} {'msg/s':>8}")
    total_n = total_seconds = 0.0
    for data_set in data_sets:
        platform_lang = None if args.detect else data_set.lang
        fastest = float("inf")
        for _ in range(max(args.repeat, 1)):
            started = time.perf_counter()
            # in batches, as int_message_sentiment scores; a text with nothing to score
            # (empty) has no label: it counts as neutral
            predicted = [scored.label or "neutral" for scored in score_messages(
                data_set.texts, [platform_lang] * len(data_set.texts), settings)]
            fastest = min(fastest, time.perf_counter() - started)
        f1, recall, accuracy = macro_scores(data_set.gold, predicted)
        majority = Counter(data_set.gold).most_common(1)[0][1] / len(data_set.gold)
        n = len(data_set.texts)
        total_n, total_seconds = total_n + n, total_seconds + fastest
        print(f"{data_set.name:<48} {platform_lang or 'detect':>6} {n:>6,} {f1:>8.3f} "
              f"{recall:>8.3f} {accuracy:>8.3f} {majority:>8.3f} {n / fastest:>8,.0f}")
    print(f"all: {total_n:,.0f} messages, {total_n / total_seconds:,.0f} msg/s on one thread")
    return 0


if __name__ == "__main__":
    sys.exit(main())
