"""API pages become Arrow tables shaped like the rows dlt's normaliser would have made."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import dlt
import duckdb
import pyarrow as pa
import pytest

from ingestion.sources.arrow import ArrowPages, _python_columns, batched, page_table
from ingestion.sources.validation import VERSIONED

TWEETS = [
    {"id": "1", "text": "hello", "created_at": "2026-10-01T08:00:00.000Z",
     "public_metrics": {"like_count": 3, "reply_count": 0},
     "author": {"id": "9", "public_metrics": {"followers_count": 120}},
     "referenced_tweets": [{"type": "replied_to", "id": "0"}]},
    {"id": "2", "text": "2026-10-01T08:00:00Z is not a time here",
     "created_at": "2026-10-01T10:00:00+0200", "edit_history_tweet_ids": ["2"],
     "public_metrics": {"like_count": 1, "reply_count": 2}},
]


def test_nested_objects_become_double_underscore_columns_and_lists_json_text() -> None:
    table = page_table(TWEETS, json_columns=frozenset({"referenced_tweets"}))
    rows = table.to_pylist()
    assert rows[0]["public_metrics__like_count"] == 3
    assert rows[0]["author__public_metrics__followers_count"] == 120
    assert rows[1]["author__public_metrics__followers_count"] is None  # no author: null
    assert json.loads(rows[0]["referenced_tweets"]) == [{"type": "replied_to", "id": "0"}]
    assert rows[0]["edit_history_tweet_ids"] is None
    assert json.loads(rows[1]["edit_history_tweet_ids"]) == ["2"]


def test_time_columns_become_utc_timestamps_and_text_stays_text() -> None:
    table = page_table(TWEETS)
    assert table.schema.field("created_at").type == pa.timestamp("us", tz="UTC")
    assert table.column("created_at").to_pylist() == [
        datetime(2026, 10, 1, 8, tzinfo=UTC), datetime(2026, 10, 1, 8, tzinfo=UTC)]
    assert pa.types.is_string(table.schema.field("text").type)


def test_a_time_column_with_one_value_that_is_no_time_stays_text() -> None:
    table = page_table([{"id": "1", "updated_at": "2026-10-01T08:00:00Z"},
                        {"id": "2", "updated_at": "yesterday"}])
    assert table.column("updated_at").to_pylist() == ["2026-10-01T08:00:00Z", "yesterday"]


def test_a_field_with_mixed_types_keeps_every_value_as_json_text() -> None:
    items = [{"id": "1", "extra": 5}, {"id": "2", "extra": "five"}, {"id": "3"},
             {"id": "4", "extra": 2**70}]
    table = page_table(items)
    assert table.column("extra").to_pylist() == ["5", '"five"', None, str(2**70)]


def test_columns_null_on_every_item_are_left_out_like_dlt_does() -> None:
    table = page_table([{"id": "1", "gone": None, "obj": {"empty": None}}])
    assert table.column_names == ["id"]


def test_arrow_inference_and_the_python_fallback_build_the_same_table() -> None:
    fast = page_table(TWEETS, json_columns=frozenset({"referenced_tweets"}))
    columns = _python_columns(TWEETS, frozenset({"referenced_tweets"}), frozenset())
    slow = pa.Table.from_arrays([a for _, a in columns], names=[n for n, _ in columns])
    assert sorted(fast.column_names) == sorted(slow.column_names)
    for name in fast.column_names:
        assert fast.column(name).to_pylist() == slow.column(name).to_pylist(), name


def test_batched_joins_pages_and_passes_other_items_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ingestion.sources.arrow.BATCH_ROWS", 3)
    marker = object()

    @batched
    def pages(n: int):
        for i in range(n):
            yield [{"id": f"{i}a"}, {"id": f"{i}b"}]
            if i == 0:
                yield marker

    out = list(pages(3))
    assert out[0] is marker
    assert [len(b) for b in out[1:]] == [4, 2]
    assert [r["id"] for b in out[1:] for r in b] == ["0a", "0b", "1a", "1b", "2a", "2b"]


def test_arrow_pages_land_with_declared_json_and_key_columns(tmp_path) -> None:
    @dlt.resource(name="tweets", primary_key="id", write_disposition="merge",
                  columns={"referenced_tweets": {"data_type": "json"}, **VERSIONED})
    @batched
    def tweets():
        yield [{**t, "_version": i} for i, t in enumerate(TWEETS)]
        yield [{**TWEETS[0], "text": "edited", "_version": 5}]

    resource = tweets()
    resource.add_step(ArrowPages(resource.compute_table_schema()["columns"]))
    pipeline = dlt.pipeline("arrow_pages_test", destination=dlt.destinations.duckdb(
        str(tmp_path / "w.duckdb")), dataset_name="raw", pipelines_dir=str(tmp_path / "p"))
    pipeline.run(resource, loader_file_format="parquet")
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    try:
        types = dict(con.execute("select column_name, data_type from information_schema.columns "
                                 "where table_name = 'tweets'").fetchall())
        rows = con.execute("select id, text, referenced_tweets->>'$[0].id' from raw.tweets "
                           "order by id").fetchall()
    finally:
        con.close()
    assert types["referenced_tweets"] == "JSON"
    assert types["created_at"] == "TIMESTAMP WITH TIME ZONE"
    assert rows == [("1", "edited", "0"), ("2", TWEETS[1]["text"], None)]
