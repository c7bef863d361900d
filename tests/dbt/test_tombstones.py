"""Deletions on the platforms reach the warehouse: an item loaded on one night and reported
deleted (a tombstone) on a later night is gone from int_messages, fct_interactions and every
mart, its tombstone is listed in int_tombstones, and re-running the night changes nothing.

The real pipelines read the recorded pages of ``tests/fixtures/api`` from the loopback replay
server into a temporary warehouse and the real dbt project builds on it; between the nights
the pages change the way the platforms change them (a status gets ``deleted_at``, a comment
``is_deleted``), and the sources' own re-reads (Mastodon statuses' lookback, Meta comments of
recent posts) deliver the tombstones. The later nights build with ``lookback_days`` 0, so
no row of night one is rewritten by the incremental window: only the tombstone handling can
remove or correct it (as for an item deleted weeks after it loaded).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ingestion.purge import PURGED_TEXT
from ingestion.settings import REPO_ROOT
from ingestion.sources.validation import TOMBSTONE, ItemRules, screen
from ingestion.sources.x.settings import TWEET_RULES
from tests.conftest import query
from tests.ingestion.test_api_sources import load_every_source

FIXTURES = REPO_ROOT / "tests" / "fixtures"
STATUSES = "mastodon/_as/444/api/v1/accounts/444/statuses/first.json"
COMMENTS = "meta/222_3/comments/first.json"
# The brand's Mastodon post (favourited: notification 9002) and a person's Facebook comment
# that the brand answered (reply 222_3_11) are deleted on the platform after night one.
DELETED_POST, FAVOURITE = "mastodon:113000000000000001", "mastodon:favourite:444:9002"
DELETED_COMMENT, REPLY = "facebook:222_3_10", "facebook:222_3_11"
LATER_NIGHT = ("--vars", json.dumps({"lookback_days": 0}))


@dataclass
class Nights:
    """One warehouse, built night by night; what each night left behind."""

    root: Path
    warehouse: Path
    before: dict[str, list[tuple]]
    after: dict[str, list[tuple]]
    marts_after: dict
    purged: dict[str, int]
    raw_before: dict[str, list[tuple]]

    def query(self, sql: str) -> list[tuple]:
        return query(self.warehouse, sql)


def run_night(root: Path, warehouse: Path, *dbt_args: str) -> dict[str, int]:
    """Every source's pipeline against the pages under ``root``, ``dbt build``, then the
    purge of deleted content from the raw tables (as the nightly job runs them); the rows
    the purge deleted per table."""
    load_every_source(root, warehouse)
    build(warehouse, *dbt_args)
    return purge(warehouse)


def purge(warehouse: Path) -> dict[str, int]:
    """The nightly job's purge asset, executed by Dagster on ``warehouse``."""
    import dagster as dg

    from orchestration.assets.purge import purge_deleted_raw

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        mp.delenv("DAGSTER_HOME", raising=False)
        result = dg.materialize([purge_deleted_raw], instance=dg.DagsterInstance.ephemeral())
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata["rows_purged_per_table"].value


def build(warehouse: Path, *dbt_args: str) -> None:
    dbt = Path(sys.executable).parent / "dbt"
    result = subprocess.run(
        [str(dbt), "build", "--profiles-dir", ".", "--target-path",
         str(warehouse.parent / "dbt_target"), *dbt_args],
        cwd=REPO_ROOT / "dbt_project", env={**os.environ, "RAPPORT_WAREHOUSE": str(warehouse)},
        capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout[-4000:]


def page_items(path: Path) -> tuple[object, list[dict]]:
    """A recorded page as read, and the items of its last envelope."""
    recorded = json.loads(path.read_text(encoding="utf-8"))
    envelope = recorded[-1] if isinstance(recorded, list) else recorded
    body = envelope["body"]
    return recorded, body["data"] if isinstance(body, dict) else body


def edit_page(path: Path, change) -> None:
    """Apply ``change`` to every item of a recorded page (the last envelope of a list)."""
    recorded, items = page_items(path)
    for item in items:
        change(item)
    path.write_text(json.dumps(recorded), encoding="utf-8")


def add_brand_reply_on_x(root: Path) -> None:
    """The recorded timeline of the owned X account is empty; the brand answers a mention."""
    reply = {"id": "1790000000000000004", "text": "@anna sorry to hear, DM us",
             "author_id": "111", "created_at": "2026-09-01T10:30:00.000Z",
             "conversation_id": "1790000000000000003", "in_reply_to_user_id": "501",
             "referenced_tweets": [{"type": "replied_to", "id": "1790000000000000003"}],
             "lang": "en", "public_metrics": {"retweet_count": 0, "reply_count": 0,
                                              "like_count": 0, "quote_count": 0,
                                              "impression_count": 3}}
    page = {"data": [reply], "includes": {"users": [{"id": "111", "name": "Brewly",
                                                     "username": "brewly"}]},
            "meta": {"result_count": 1, "newest_id": reply["id"], "oldest_id": reply["id"]}}
    (root / "api" / "x/2/users/111/tweets/first.json").write_text(
        json.dumps({"status": 200, "headers": {}, "body": page}), encoding="utf-8")


def delete_on_platform(item: dict) -> None:
    if item["id"] == "113000000000000001":
        item["deleted_at"] = "2026-09-06T10:00:00.000Z"
    if item["id"] == "222_3_10":
        item["is_deleted"] = True


def mart_digest(warehouse: Path) -> dict[str, tuple[int, str]]:
    """Rows and a content digest of every mart."""
    digests = {}
    for (table,) in query(warehouse, "select table_name from information_schema.tables "
                                     "where table_schema = 'marts' order by 1"):
        rows = query(warehouse, f"select * from marts.{table} order by all")
        digests[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return digests


# Raw tables that held the deleted status, its favourite or the deleted comment: how each
# row names them, and its content columns.
RAW_HOLDERS = {
    "raw_mastodon.statuses": ("id", "content, content_text"),
    "raw_mastodon.notifications": ("coalesce(status__id, id)", "status__content"),
    "raw_meta.post_comments": ("id", "message"),
}
DELETED_IDS = ("113000000000000001", "222_3_10")


def raw_snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    """Per raw table above: what each row names, its id and its content."""
    return {table: query(warehouse, f"select {named}, id, {content} from {table} "
                                    "order by all")
            for table, (named, content) in RAW_HOLDERS.items()}


def snapshot(warehouse: Path) -> dict[str, list[tuple]]:
    return {
        "messages": query(warehouse, "select message_key, parent_message_id, thread_id from "
                                     "intermediate.int_messages order by 1"),
        "interactions": query(warehouse, "select interaction_id, conversation_id from "
                                         "marts.fct_interactions order by 1"),
        "posts": query(warehouse, "select distinct post_key from "
                                  "marts.mart_post_performance_daily order by 1"),
    }


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    """Night one loads the recorded pages; night two reads the same pages with two items
    now deleted on the platform."""
    root = tmp_path_factory.mktemp("tombstones")
    shutil.copytree(FIXTURES / "api", root / "api")
    shutil.copytree(FIXTURES / "exports", root / "exports")
    add_brand_reply_on_x(root)
    warehouse = root / "warehouse" / "rapport.duckdb"
    assert run_night(root, warehouse) == {}  # nothing deleted yet
    before, raw_before = snapshot(warehouse), raw_snapshot(warehouse)
    for page in (STATUSES, COMMENTS):
        edit_page(root / "api" / page, delete_on_platform)
    purged = run_night(root, warehouse, *LATER_NIGHT)
    yield Nights(root, warehouse, before, snapshot(warehouse), mart_digest(warehouse), purged,
                 raw_before)


def keys(rows: list[tuple]) -> set[str]:
    return {row[0] for row in rows}


def test_the_items_deleted_later_had_loaded_on_the_first_night(nights: Nights) -> None:
    assert {DELETED_POST, DELETED_COMMENT, REPLY} <= keys(nights.before["messages"])
    assert {DELETED_POST, DELETED_COMMENT, FAVOURITE} <= keys(nights.before["interactions"])


def test_deleted_items_are_gone_from_int_messages_and_fct_interactions(nights: Nights) -> None:
    assert not {DELETED_POST, DELETED_COMMENT} & keys(nights.after["messages"])
    assert not {DELETED_POST, DELETED_COMMENT} & keys(nights.after["interactions"])
    assert nights.query("select count(*) from intermediate.int_messages_threaded where "
                        f"message_key in ('{DELETED_POST}', '{DELETED_COMMENT}')") == [(0,)]
    # nothing else went: the two messages and the favourite of the deleted post
    assert keys(nights.before["messages"]) - keys(nights.after["messages"]) \
        == {DELETED_POST, DELETED_COMMENT}
    assert keys(nights.before["interactions"]) - keys(nights.after["interactions"]) \
        == {DELETED_POST, DELETED_COMMENT, FAVOURITE}


def test_a_reaction_to_a_deleted_post_goes_with_it(nights: Nights) -> None:
    assert FAVOURITE not in keys(nights.after["interactions"])
    assert nights.query("select count(*) from intermediate.int_interactions_relevance "
                        f"where interaction_id = '{FAVOURITE}'") == [(0,)]


def test_a_reply_to_a_deleted_comment_stays_with_its_parent_id_dangling(nights: Nights) -> None:
    reply = [row for row in nights.after["messages"] if row[0] == REPLY]
    assert reply == [(REPLY, "222_3_10", "222_3_10")]
    interaction = [row for row in nights.after["interactions"] if row[0] == REPLY]
    conversation = interaction[0][1]
    # its conversation no longer starts at the deleted comment but is still a conversation
    assert conversation != DELETED_COMMENT
    assert nights.query("select count(*) from marts.fct_conversations where "
                        f"conversation_id = '{conversation}'") == [(1,)]
    assert nights.query("select count(*) from marts.fct_conversations where "
                        f"conversation_id = '{DELETED_COMMENT}'") == [(0,)]


def test_every_mart_drops_the_deleted_items(nights: Nights) -> None:
    assert DELETED_POST in keys(nights.before["posts"])
    assert keys(nights.before["posts"]) - keys(nights.after["posts"]) == {DELETED_POST}
    # every row of every fact that names a message names a surviving one
    messages = keys(nights.after["messages"])
    for table, column in (("marts.fct_conversations", "conversation_id"),
                          ("marts.fct_mrm", "conversation_id"),
                          ("marts.fct_interactions", "conversation_id")):
        held = {r[0] for r in nights.query(f"select distinct {column} from {table} "
                                           f"where {column} is not null")}
        assert held <= messages, f"{table}.{column}: {held - messages}"


def test_the_raw_tables_lose_the_deleted_content_and_nothing_else(nights: Nights) -> None:
    after = raw_snapshot(nights.warehouse)
    for table, rows in nights.raw_before.items():
        assert [row for row in rows if row[0] in DELETED_IDS], f"{table} held no deleted item"
        expected = [row[:2] + tuple(PURGED_TEXT for _ in row[2:]) if row[0] in DELETED_IDS
                    else row for row in rows]
        assert after[table] == expected, table
    # the status itself, the favourite notification embedding it, the comment. dlt's staging
    # copy of night one's notifications held it too until night two loaded the table again
    # (an empty night creates the table, so dlt replaces that copy): nothing left there to purge
    assert nights.purged == {"raw_mastodon.statuses": 1, "raw_mastodon.notifications": 1,
                             "raw_meta.post_comments": 1}
    # the reply to the deleted comment is someone else's content: it stays as it was
    assert [row for row in after["raw_meta.post_comments"] if row[0] == "222_3_11"] == [
        row for row in nights.raw_before["raw_meta.post_comments"] if row[0] == "222_3_11"]


def test_no_copy_of_the_deleted_text_is_left_in_the_raw_layer(nights: Nights) -> None:
    """Not in a raw table, not in dlt's staging copy of the last load, not in the
    tombstones' quarantine rows (which keep only ids and deletion markers)."""
    texts = deleted_texts(nights.root)
    assert texts
    tables = nights.query(
        "select table_schema, table_name from information_schema.tables "
        "where table_schema like 'raw\\_%' escape '\\' "
        "and table_name not like '\\_dlt%' escape '\\'")
    for schema, table in tables:
        dump = repr(nights.query(f'select * from {schema}."{table}"'))
        for text in texts:
            assert text not in dump, f"{schema}.{table} still holds {text!r}"
    quarantined = nights.query("select raw_json from raw_mastodon.statuses_quarantine")
    assert [json.loads(row[0]) for row in quarantined] == [
        {"id": "113000000000000001", "deleted_at": "2026-09-06T10:00:00.000Z"}]


def deleted_texts(root: Path) -> list[str]:
    """The deleted status's and comment's texts, as the recorded pages give them."""
    return [item[key] for page, key in ((STATUSES, "content"), (COMMENTS, "message"))
            for item in page_items(root / "api" / page)[1] if item["id"] in DELETED_IDS]


def test_the_tombstones_are_listed_with_what_they_removed(nights: Nights) -> None:
    rows = nights.query(
        "select platform, source_name, source_table, item_kind, item_id, message_key, "
        "first_seen_at from intermediate.int_tombstones order by tombstone_key")
    assert [row[:6] for row in rows] == [
        ("mastodon", "mastodon", "statuses", "message", "113000000000000001", DELETED_POST),
        ("facebook", "meta", "post_comments", "message", "222_3_10", DELETED_COMMENT),
    ]
    now = datetime.now(UTC).replace(tzinfo=None)
    assert all(0 <= (now - row[6]).total_seconds() < 3600 for row in rows)
    # ids only: nothing of the deleted content
    columns = {r[0] for r in nights.query(
        "select column_name from information_schema.columns where table_schema = "
        "'intermediate' and table_name = 'int_tombstones'")}
    assert not columns & {"text", "raw_json", "message", "content"}


def test_rerunning_the_night_changes_nothing(nights: Nights) -> None:
    listed = nights.query("select tombstone_key, first_seen_at from intermediate.int_tombstones"
                          " order by 1")
    assert run_night(nights.root, nights.warehouse, *LATER_NIGHT) == {}
    assert snapshot(nights.warehouse) == nights.after
    assert mart_digest(nights.warehouse) == nights.marts_after
    # a tombstone read again keeps the time it was first seen
    assert nights.query("select tombstone_key, first_seen_at from "
                        "intermediate.int_tombstones order by 1") == listed


def test_the_incremental_nights_equal_a_full_rebuild(nights: Nights) -> None:
    incremental = snapshot(nights.warehouse)
    build(nights.warehouse, "--full-refresh", "--exclude", "resource_type:seed")
    assert snapshot(nights.warehouse) == incremental


def test_dbt_reads_the_reason_ingestion_gives_a_tombstone() -> None:
    project = yaml.safe_load((REPO_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    assert project["vars"]["tombstone_reason"] == TOMBSTONE


@pytest.mark.parametrize("item,expected", [
    ({"delete": {"tweet": {"id": "1790000000000000007", "author_id": "501"}}},
     "1790000000000000007"),
    ({"delete": {"status": {"id": 1790000000000000008, "user_id": 501}}}, "1790000000000000008"),
    ({"id": "1790000000000000009", "deleted": True}, "1790000000000000009"),
    ({"delete": {"event_at": "2026-09-01T10:00:00.000Z"}}, None),
])
def test_a_tombstone_quarantine_row_names_the_deleted_item(item: dict, expected) -> None:
    good, bad = screen([item], TWEET_RULES, "/2/users/111/mentions")
    assert good == [] and [row["reason"] for row in bad] == [TOMBSTONE]
    assert bad[0]["item_id"] == expected


def test_a_graph_removal_names_the_comment_before_its_post() -> None:
    _, bad = screen([{"verb": "remove", "item": "comment", "comment_id": "222_3_10",
                      "post_id": "222_3"}], ItemRules(keys=("id",)), "/222_3/comments")
    assert [(row["reason"], row["item_id"]) for row in bad] == [(TOMBSTONE, "222_3_10")]


def test_an_item_missing_its_id_is_not_given_one_from_elsewhere() -> None:
    _, bad = screen([{"text": "no id", "comment_id": "c1", "created_at": "x"}],
                    ItemRules(keys=("id",)), "/anything")
    assert Counter(row["item_id"] for row in bad) == Counter([None])


# Deletions of every other kind, as int_tombstones lists them (source, table, kind, item id,
# message_key), and what each must overwrite: raw table -> (column naming the row, ids,
# content columns).
MORE_TOMBSTONES = [
    ("x", "mentions", "x", "message", "1790000000000000002", "x:1790000000000000002"),
    ("x", "dm_events", "x", "message", "1800000000000000002", "x:1800000000000000002"),
    ("meta", "page_conversations", "facebook", "conversation", "t_1", None),
    ("meta", "ig_media", "instagram", "message", "17900000000000001",
     "instagram:17900000000000001"),
    ("meta", "ig_comments", "instagram", "message", "17800000000000001",
     "instagram:17800000000000001"),
    ("mastodon", "notifications", "mastodon", "notification", "9003", None),
    ("mastodon", "conversations", "mastodon", "conversation", "31", None),
    ("mastodon", "tag_statuses", "mastodon", "message", "113000000000000002",
     "mastodon:113000000000000002"),
]
OVERWRITTEN = {
    "raw_x.mentions": ("id", {"1790000000000000002"}, ("text",)),
    "raw_x.dm_events": ("id", {"1800000000000000002"}, ("text",)),
    # every message of the deleted thread
    "raw_meta.conversation_messages": ("conversation_id", {"t_1"}, ("message",)),
    "raw_meta.ig_media": ("id", {"17900000000000001"}, ("caption",)),
    # the comment, not the reply to it (17800000000000002)
    "raw_meta.ig_comments": ("id", {"17800000000000001"}, ("text",)),
    # the status of a notification whose status is gone, and a conversation's last status
    "raw_mastodon.notifications": ("id", {"9003"}, (
        "status__content", "status__content_text", "status__mentions", "status__tags")),
    "raw_mastodon.conversations": ("id", {"31"}, (
        "last_status__content", "last_status__content_text", "last_status__mentions")),
    "raw_mastodon.tag_statuses": ("id", {"113000000000000002"}, (
        "content", "content_text", "tags", "mentions")),
}


def test_every_kind_of_deletion_overwrites_its_content_and_nothing_else(
        nights: Nights, tmp_path: Path) -> None:
    """X mentions and DMs, a Messenger thread, Instagram media and comments, a Mastodon
    notification whose status is gone, a conversation without its last status, a hashtag
    status; and a quarantine row holding a deleted item for another reason."""
    import duckdb

    from ingestion.purge import PURGED_LIST, purge_deleted

    warehouse = tmp_path / "rapport.duckdb"
    shutil.copy(nights.warehouse, warehouse)
    con = duckdb.connect(str(warehouse))
    try:
        for source, table, platform, kind, item_id, message_key in MORE_TOMBSTONES:
            con.execute("insert into intermediate.int_tombstones values "
                        "(?, ?, ?, ?, ?, ?, ?, now())",
                        [f"{source}:{table}:{item_id}", platform, source, table, kind,
                         item_id, message_key])
        con.execute("insert into raw_mastodon.conversations_quarantine by name select "
                    "'k31' as quarantine_key, '/api/v1/conversations' as endpoint, "
                    "'31' as item_id, '{\"id\": \"31\", \"x\": 1}' as raw_json, "
                    "'x is not text' as reason, now() as quarantined_at, "
                    "'1' as _dlt_load_id, 'q31' as _dlt_id")
        before = {table: _rows(con, table) for table in OVERWRITTEN}
        purged = purge_deleted(con)
        after = {table: _rows(con, table) for table in OVERWRITTEN}
        quarantined = con.execute("select item_id, reason from "
                                  "raw_mastodon.conversations_quarantine").fetchall()
        assert purge_deleted(con) == {}  # idempotent
    finally:
        con.close()

    for table, (column, ids, content) in OVERWRITTEN.items():
        touched = [row for row in before[table] if row[column] in ids]
        assert touched, f"{table}: no row to overwrite"
        for content_column in content:
            assert any(row[content_column] is not None for row in touched), content_column
        expected = [
            {**row, **{c: (PURGED_LIST if c.endswith(("mentions", "tags"))
                           else PURGED_TEXT) if row[c] is not None else None
                       for c in content}} if row[column] in ids else row
            for row in before[table]]
        assert after[table] == expected, table
        assert purged[table] == len(touched), table
    assert purged["raw_mastodon.conversations_quarantine"] == 1
    assert ("31", "x is not text") not in quarantined and quarantined


def _rows(con, table: str) -> list[dict]:
    cursor = con.execute(f"select * exclude (_dlt_load_id) from {table} order by _dlt_id")
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
