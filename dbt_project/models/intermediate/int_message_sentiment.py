"""Sentiment per message: one row per int_messages message, scored once (incremental).

The scoring itself (language, score, label) is analytics.sentiment, the module
`rapport sentiment` and the accuracy benchmark use too; see docs/metrics.md.

Configuration comes from dbt vars, passed in through the model config in _intermediate.yml
(Python models cannot call var() themselves), and from the sentiment_lexicon_overrides seed.

The messages stream through in Arrow record batches of READ_BATCH_ROWS: the model returns a
RecordBatchReader that dbt-duckdb writes into the table as it reads it, so memory stays the
same for a night of any size, and columns go from NumPy arrays to Arrow without a Python
object per message and value.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pyarrow as pa

from analytics import sentiment
from analytics.sentiment import SentimentSettings, settings_from_vars
from analytics.sentiment_model import LABELS

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
        ("is_sarcastic", pa.bool_()),
        ("thanks_end_score", pa.float64()),
        ("thanks_end_p_positive", pa.float64()),
        ("is_concession", pa.bool_()),
    ]
)
# Messages read, scored and written at once.
READ_BATCH_ROWS = 50_000
_LABELS = np.array(LABELS, dtype=object)


def score_batch(
    message_keys: pa.Array,
    texts: list[str | None],
    platform_langs: list[str | None],
    settings: SentimentSettings,
    courtesy_words: frozenset[str] = frozenset(),
    churn_markers: tuple[str, ...] = (),
    retention_markers: tuple[str, ...] = (),
    concession_markers: tuple[str, ...] = (),
) -> pa.RecordBatch:
    """Score a batch of messages; returns a record batch in OUTPUT_SCHEMA, one row per input."""
    scored = sentiment.score_message_arrays(texts, platform_langs, settings)
    no_text = ~scored.has_text
    probabilities = scored.probabilities

    def floats(values: np.ndarray, mask: np.ndarray = no_text) -> pa.Array:
        return pa.array(np.ascontiguousarray(values), pa.float64(), mask=mask)

    def matching(markers: tuple[str, ...]) -> pa.Array:
        return pa.array([sentiment.matches_marker(text, markers) for text in texts], pa.bool_())

    thanks_end = scored.thanks_end_probabilities
    no_thanks_end = np.isnan(thanks_end[:, 0])

    return pa.RecordBatch.from_arrays(
        [
            pa.array(message_keys, pa.string()) if not isinstance(message_keys, pa.Array)
            else message_keys.cast(pa.string()),
            pa.array(scored.langs, pa.string()),
            floats(scored.scores),
            pa.array(_LABELS[scored.label_indexes], pa.string(), mask=no_text),
            floats(probabilities[:, 0]),
            floats(probabilities[:, 1]),
            floats(probabilities[:, 2]),
            pa.array([sentiment.is_courtesy_only(text, courtesy_words) for text in texts],
                     pa.bool_()),
            matching(churn_markers),
            matching(retention_markers),
            pa.array(scored.sarcastic, pa.bool_(), mask=no_text),
            floats(thanks_end[:, 2] - thanks_end[:, 0], no_thanks_end),
            floats(thanks_end[:, 2], no_thanks_end),
            matching(concession_markers),
        ],
        schema=OUTPUT_SCHEMA,
    )


def score_messages(
    message_keys: list[str],
    texts: list[str | None],
    platform_langs: list[str | None],
    settings: SentimentSettings | None = None,
    courtesy_words: frozenset[str] = frozenset(),
    churn_markers: tuple[str, ...] = (),
    retention_markers: tuple[str, ...] = (),
    concession_markers: tuple[str, ...] = (),
) -> pa.Table:
    """Score messages given as lists; returns a table in OUTPUT_SCHEMA, one row per input."""
    return pa.Table.from_batches([score_batch(
        pa.array(message_keys, pa.string()), texts, platform_langs,
        settings or SentimentSettings(), courtesy_words, churn_markers, retention_markers,
        concession_markers)])


def score_reader(batches: Iterator[pa.RecordBatch], settings: SentimentSettings,
                 courtesy_words: frozenset[str], churn_markers: tuple[str, ...],
                 retention_markers: tuple[str, ...],
                 concession_markers: tuple[str, ...] = ()) -> pa.RecordBatchReader:
    """The scored rows of record batches with columns message_key, text and lang, as a
    reader that scores each batch when it is read."""
    return pa.RecordBatchReader.from_batches(OUTPUT_SCHEMA, (
        score_batch(batch.column("message_key"), batch.column("text").to_pylist(),
                    batch.column("lang").to_pylist(), settings, courtesy_words,
                    churn_markers, retention_markers, concession_markers)
        for batch in batches))


def model(dbt, session):
    """dbt entry point: score the messages of int_messages not scored yet."""
    dbt.config(materialized="incremental", unique_key="message_key")
    messages = dbt.ref("int_messages").select("message_key, text, lang")
    if dbt.is_incremental:
        # Scored once: a message already in this table is never scored again.
        messages = messages.filter(f"message_key not in (select message_key from {dbt.this})")
    overrides = dbt.ref("sentiment_lexicon_overrides").fetch_arrow_table().to_pylist()
    # dbt hands a Python model only the config keys its source reads with a literal
    # dbt.config.get("..."): one call per var, never a loop or a passed-on dbt.config.get.
    dbt_vars = {
        "sentiment_detect_languages": dbt.config.get("sentiment_detect_languages"),
        "sentiment_min_letters_to_detect": dbt.config.get("sentiment_min_letters_to_detect"),
        "sentiment_sarcasm_markers": dbt.config.get("sentiment_sarcasm_markers"),
        "sentiment_thanks_markers": dbt.config.get("sentiment_thanks_markers"),
    }
    courtesy_words = dbt.config.get("mrm_courtesy_words")
    churn_markers = dbt.config.get("mrm_churn_markers")
    retention_markers = dbt.config.get("mrm_retention_markers")
    concession_markers = dbt.config.get("mrm_concession_markers")
    # Last, after every other query: the connection serves nothing else while it streams.
    # dbt-duckdb writes the returned reader through a cursor of its own.
    batches = messages.order("message_key").to_arrow_reader(READ_BATCH_ROWS)
    return score_reader(
        batches,
        settings_from_vars(dbt_vars, overrides),
        frozenset(str(word).lower() for word in courtesy_words or ()),
        tuple(str(marker) for marker in churn_markers or ()),
        tuple(str(marker) for marker in retention_markers or ()),
        tuple(str(marker) for marker in concession_markers or ()),
    )
