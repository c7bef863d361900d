"""Sentiment per message: one row per int_messages message, scored once (incremental).

The scoring itself (language, score, label) is analytics.sentiment, the module
`rapport sentiment` and the accuracy benchmark use too; see docs/metrics.md.

Configuration comes from dbt vars, passed in through the model config in _intermediate.yml
(Python models cannot call var() themselves), and from the sentiment_lexicon_overrides seed.
"""

from __future__ import annotations

import pyarrow as pa

from analytics import sentiment
from analytics.sentiment import SentimentSettings, settings_from_vars

OUTPUT_SCHEMA = pa.schema(
    [
        ("message_key", pa.string()),
        ("lang", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_label", pa.string()),
        ("p_negative", pa.float64()),
        ("p_neutral", pa.float64()),
        ("p_positive", pa.float64()),
        ("is_courtesy_only", pa.bool_()),
        ("is_churn_announcement", pa.bool_()),
        ("is_retention_statement", pa.bool_()),
    ]
)


def score_messages(
    message_keys: list[str],
    texts: list[str | None],
    platform_langs: list[str | None],
    settings: SentimentSettings | None = None,
    courtesy_words: frozenset[str] = frozenset(),
    churn_markers: tuple[str, ...] = (),
    retention_markers: tuple[str, ...] = (),
) -> pa.Table:
    """Score a batch of messages; returns a table in OUTPUT_SCHEMA, one row per input."""
    settings = settings or SentimentSettings()
    scored = sentiment.score_messages(texts, platform_langs, settings)
    return pa.table(
        {
            "message_key": message_keys,
            "lang": [s.lang for s in scored],
            "sentiment_score": [s.score for s in scored],
            "sentiment_label": [s.label for s in scored],
            "p_negative": [s.p_negative for s in scored],
            "p_neutral": [s.p_neutral for s in scored],
            "p_positive": [s.p_positive for s in scored],
            "is_courtesy_only": [sentiment.is_courtesy_only(text, courtesy_words)
                                 for text in texts],
            "is_churn_announcement": [sentiment.matches_marker(text, churn_markers)
                                      for text in texts],
            "is_retention_statement": [sentiment.matches_marker(text, retention_markers)
                                       for text in texts],
        },
        schema=OUTPUT_SCHEMA,
    )


def model(dbt, session):
    """dbt entry point: score the messages of int_messages not scored yet."""
    dbt.config(materialized="incremental", unique_key="message_key")
    messages = dbt.ref("int_messages").select("message_key, text, lang")
    if dbt.is_incremental:
        # Scored once: a message already in this table is never scored again.
        messages = messages.filter(f"message_key not in (select message_key from {dbt.this})")
    batch = messages.order("message_key").fetch_arrow_table()
    overrides = dbt.ref("sentiment_lexicon_overrides").fetch_arrow_table().to_pylist()
    # dbt hands a Python model only the config keys its source reads with a literal
    # dbt.config.get("..."): one call per var, never a loop or a passed-on dbt.config.get.
    dbt_vars = {
        "sentiment_detect_languages": dbt.config.get("sentiment_detect_languages"),
        "sentiment_min_letters_to_detect": dbt.config.get("sentiment_min_letters_to_detect"),
    }
    courtesy_words = dbt.config.get("mrm_courtesy_words")
    churn_markers = dbt.config.get("mrm_churn_markers")
    retention_markers = dbt.config.get("mrm_retention_markers")
    return score_messages(
        batch.column("message_key").to_pylist(),
        batch.column("text").to_pylist(),
        batch.column("lang").to_pylist(),
        settings_from_vars(dbt_vars, overrides),
        frozenset(str(word).lower() for word in courtesy_words or ()),
        tuple(str(marker) for marker in churn_markers or ()),
        tuple(str(marker) for marker in retention_markers or ()),
    )
