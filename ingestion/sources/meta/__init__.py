"""Facebook Page and Instagram (Graph API): posts, comments and replies, Messenger threads.

Facebook comments are read with ``filter=stream`` so replies arrive flat with their ``parent``;
Instagram replies arrive nested under their comment and are yielded as rows of their own with
``parent_id`` set, so both platforms land in the same shape.

Owned accounts: each night reads every Page and Instagram account object once (follower
counts), one row per account and UTC day, so the nights build a follower history.

Increments: posts and media are read ``since`` the newest one loaded minus ``lookback_days``;
every post or medium read is followed into its comments, so comments and replies on recent
posts keep arriving (merged by id) for that window. People keep commenting for longer than
that: the ids and created times of the posts of the last ``comment_days`` (counted back from
the newest post, like the lookback) are kept in the resource state, and those the feed window
no longer returns are read again one by one (``/{post-id}``), so their counters and comments
stay current for ``comment_days``. Messenger threads are listed newest-updated
first until they are older than the window; the messages of each listed thread are re-read.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import dlt
from dlt.sources.helpers.rest_client import RESTClient

from ingestion.sources.arrow import batched
from ingestion.sources.meta import settings as S
from ingestion.sources.meta.helpers import GraphPaginator, epoch, since_param
from ingestion.sources.meta.schema import RAW_COLUMNS
from ingestion.sources.rest import (
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
    HttpPolicy,
    SourceHTTPError,
    api_client,
    as_parquet,
    checked,
    cursors,
    pages,
    require,
    segment,
)
from ingestion.sources.validation import VERSIONED, Screen, is_quarantine, parent_rows
from ingestion.sources.window import backfill_window

logger = logging.getLogger(__name__)


@dlt.source(name="meta")
def meta_source(
    base_url: str | None = dlt.config.value,
    page_ids: list[str] | None = dlt.config.value,
    instagram_account_ids: list[str] | None = dlt.config.value,
    access_tokens: dict[str, str] | None = dlt.secrets.value,
    lookback_days: float = 14.0,
    comment_days: float = 28.0,
    max_attempts: int = 5,
    max_wait_seconds: float = 900.0,
    backoff_seconds: float = 2.0,
    max_pages: int = DEFAULT_MAX_PAGES,
    request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
):
    """Graph API resources for the owned Facebook Pages and Instagram accounts.

    Args:
        base_url: Graph root including the version, e.g. ``https://graph.facebook.com/v21.0``.
        page_ids: ids of the owned Facebook Pages.
        instagram_account_ids: ids of the owned Instagram professional accounts.
        access_tokens: a Page (or Instagram) access token per owned account id.
        lookback_days: how far behind the newest loaded post each night re-reads.
        comment_days: how long (back from the newest post) a post's comments are re-read
            each night, by reading the post again once the lookback no longer covers it.
        max_attempts: tries per request (throttling codes 4/17/32/613, 5xx, broken bodies).
        max_wait_seconds: longest single wait between tries.
        backoff_seconds: first backoff step (doubles each try).
        max_pages: pages one resource may read in a night, all its walks together; one
            more fails the resource (a server paging without end).
        request_deadline_seconds: longest one response may take, its body included.
        max_response_bytes: largest response body (decoded) a request accepts.
        start: with ``end``, a backfill: read posts and media created in ``[start, end)``
            (``since``/``until``) with all their comments, and Messenger threads updated since
            ``start``, instead of what is new; the cursors are kept as they are.
        end: the end of the backfill window (exclusive).
    """
    settings = {"window": backfill_window(start, end, "meta"),
                "base_url": base_url or S.DEFAULT_BASE_URL,
                "page_ids": checked(page_ids, "meta", "page_ids") or [],
                "instagram_account_ids": checked(instagram_account_ids, "meta",
                                                 "instagram_account_ids") or [],
                "access_tokens": access_tokens, "lookback_days": lookback_days,
                "comment_days": comment_days, "clients": {},
                "policy": HttpPolicy(max_attempts=max_attempts, max_wait_seconds=max_wait_seconds,
                                     backoff_seconds=backoff_seconds, max_pages=max_pages,
                                     request_deadline_seconds=request_deadline_seconds,
                                     max_response_bytes=max_response_bytes)}
    posts = page_posts(settings)
    conversations = page_conversations(settings)
    media = ig_media(settings)
    return as_parquet(
        posts,
        posts | post_comments(settings),
        conversations,
        conversations | conversation_messages(settings),
        media,
        media | ig_comments(settings),
        accounts(settings),
        raw_columns=RAW_COLUMNS,
    )


def _token(settings: dict, account_id: str) -> str:
    tokens = require(settings["access_tokens"], "meta", "access_tokens", secret=True)
    return require(tokens.get(account_id), "meta", f"access_tokens.{account_id}", secret=True)


def _client(settings: dict, account_id: str) -> RESTClient:
    """The Graph API client sending ``account_id``'s token, one per account and night: every
    post's comments and every thread's messages are read through it, so connections are kept
    alive between those requests (and dlt resolves a client's configuration once, not per
    edge)."""
    clients = settings["clients"]
    if account_id not in clients:
        clients[account_id] = api_client("meta", settings["base_url"],
                                         _token(settings, account_id), settings["policy"])
    return clients[account_id]


def _read(settings: dict, account_id: str, path: str, fields: str,
          extra: dict | None = None) -> Iterator[list[dict]]:
    client = _client(settings, account_id)
    params = {"fields": fields, "limit": S.LIMIT, **(extra or {})}
    for items, _ in pages(client, path, GraphPaginator(), params):
        yield items


def snapshot_time() -> datetime:
    """When an account snapshot is taken (now, UTC); its UTC day is part of the row's key."""
    return datetime.now(UTC)


def _object(settings: dict, account_id: str, object_id: str, fields: str) -> object:
    """One Graph object (``/{id}?fields=...``) read with ``account_id``'s token: no ``data``
    envelope, no paging."""
    client = _client(settings, account_id)
    return client.get(f"/{segment(object_id)}", params={"fields": fields}).json()


def _windowed(settings: dict, account_id: str, path: str, fields: str, time_key: str,
              context: dict, screen: Screen) -> Iterator[object]:
    """Pages of an edge that accepts ``since``; moves the account's cursor to the newest item.

    Items are screened first: a future or broken time must never move the cursor."""
    state = cursors("since")
    newest = state.get(account_id)
    backfill = settings["window"]
    # Graph's until is inclusive; the window's end is not.
    window = ({"since": int(backfill.start.timestamp()),
               "until": int(backfill.end.timestamp()) - 1}
              if backfill else since_param(newest, settings["lookback_days"]))
    read: dict[str, int] = {}
    for items in _read(settings, account_id, path, fields, window):
        items = screen([_with(i, context) for i in items], f"/{path}")
        yield from screen.rejected()
        for item in items:
            read[item["id"]] = epoch(item.get(time_key)) or 0
            newest = max(newest or 0, read[item["id"]]) or None
        yield items
    if newest and not backfill:
        yield from _recent_posts(settings, account_id, fields, context, screen, read, newest)
        state[account_id] = newest


def _recent_posts(settings: dict, account_id: str, fields: str, context: dict, screen: Screen,
                  read: dict[str, int], newest: int) -> Iterator[object]:
    """The account's posts of the last ``comment_days`` that tonight's window did not return,
    read again one by one (so the transformer follows them into their comments); the state
    then keeps tonight's posts and the remembered ones still that young."""
    recent = cursors("recent")
    oldest = newest - settings["comment_days"] * 86400
    kept = {post_id: created for post_id, created in {**recent.get(account_id, {}),
                                                       **read}.items() if created >= oldest}
    for post_id in [p for p in kept if p not in read]:
        try:
            item = _object(settings, account_id, post_id, fields)
        except SourceHTTPError as error:
            if error.status not in (400, 404):
                raise
            # Graph answers 400 (code 100) for a post deleted since: nothing left to follow.
            logger.warning("meta: post %s is gone (%s); its comments are no longer re-read",
                           post_id, error)
            del kept[post_id]
            continue
        rows = screen([_with(item, context)], f"/{post_id}")
        yield from screen.rejected()
        if not rows:  # quarantined (e.g. now a tombstone): not followed again
            del kept[post_id]
        yield rows
    recent[account_id] = kept


def _with(item: object, context: dict) -> object:
    # Context is added to objects only; anything else is left for screening to quarantine.
    return {**item, **context} if isinstance(item, dict) else item


def _screened_children(settings: dict, screen: Screen, account_id: str, path: str,
                       fields: str, context: dict, extra: dict | None = None
                       ) -> Iterator[object]:
    """Every page of a child edge (a post's comments, a thread's messages) with ``context``
    added, screened; rejected items follow each page to the quarantine table."""
    for items in _read(settings, account_id, path, fields, extra):
        yield screen([_with(item, context) for item in items], f"/{path}")
        yield from screen.rejected()


@dlt.resource(name="accounts", primary_key=("platform", "id", "snapshot_date"),
              write_disposition="merge",
              columns={"snapshot_date": {"data_type": "date"}, **VERSIONED})
@batched
def accounts(settings: dict) -> Iterator[object]:
    """Audience counts of each owned Page (followers, fans) and Instagram account (followers,
    follows, media), one row per account and UTC day: a re-run on the same day replaces that
    day's row, the next day adds one."""
    # Only the day: a re-run that day writes the same row (when it ran is in _dlt_loads).
    snapshot = {"snapshot_date": snapshot_time().date()}
    for platform, ids, fields, rules in (
            ("facebook", settings["page_ids"], S.PAGE_ACCOUNT_FIELDS, S.PAGE_ACCOUNT_RULES),
            ("instagram", settings["instagram_account_ids"], S.IG_ACCOUNT_FIELDS,
             S.IG_ACCOUNT_RULES)):
        screen = Screen(rules)
        for account_id in ids:
            item = _with(_object(settings, account_id, account_id, fields),
                         {"platform": platform})
            # The snapshot date is added after screening: it is ours, not the platform's,
            # and the quarantine keeps the item as it was sent.
            yield [{**row, **snapshot} for row in screen([item], f"/{account_id}")]
            yield from screen.rejected()


@dlt.resource(name="page_posts", primary_key="id", write_disposition="merge",
              columns=VERSIONED)
@batched
def page_posts(settings: dict) -> Iterator[object]:
    """Posts in each owned Page's feed."""
    screen = Screen(S.PAGE_POST_RULES)
    for page_id in settings["page_ids"]:
        yield from _windowed(settings, page_id, f"{segment(page_id)}/feed", S.PAGE_POST_FIELDS,
                             "created_time", {"page_id": page_id}, screen)


@dlt.transformer(name="post_comments", primary_key="id", write_disposition="merge",
                 columns=VERSIONED)
@batched
def post_comments(posts: list[dict], settings: dict) -> Iterator[object]:
    """Comments and replies on each Page post, flat, replies with ``parent__id``."""
    if is_quarantine(posts):
        return
    screen = Screen(S.COMMENT_RULES)
    for post in parent_rows(posts):
        yield from _screened_children(
            settings, screen, post["page_id"], f"{segment(post['id'])}/comments", S.COMMENT_FIELDS,
            {"post_id": post["id"], "page_id": post["page_id"]}, {"filter": "stream"})


@dlt.resource(name="page_conversations", primary_key="id", write_disposition="merge",
              columns=VERSIONED)
@batched
def page_conversations(settings: dict) -> Iterator[object]:
    """Messenger threads of each owned Page, newest-updated first, down to the window."""
    screen = Screen(S.CONVERSATION_RULES)
    state = cursors("updated")
    for page_id in settings["page_ids"]:
        newest = state.get(page_id)
        backfill = settings["window"]
        oldest_wanted = (int(backfill.start.timestamp()) if backfill
                         else since_param(newest, settings["lookback_days"]).get("since"))
        for items in _read(settings, page_id, f"{segment(page_id)}/conversations",
                           S.CONVERSATION_FIELDS, {"platform": "messenger"}):
            items = screen([_with(c, {"page_id": page_id}) for c in items],
                           f"/{page_id}/conversations")
            yield from screen.rejected()
            times = [epoch(c.get("updated_time")) or 0 for c in items]
            newest = max([newest or 0, *times]) or None
            yield items
            # The edge cannot filter by time; it lists by update, newest first.
            if oldest_wanted is not None and times and max(times) < oldest_wanted:
                break
        if newest and not backfill:
            state[page_id] = newest


@dlt.transformer(name="conversation_messages", primary_key="id", write_disposition="merge",
                 columns={"to": {"data_type": "json"}, **VERSIONED})
@batched
def conversation_messages(conversations: list[dict], settings: dict) -> Iterator[object]:
    """Messages of each Messenger thread (both directions)."""
    if is_quarantine(conversations):
        return
    screen = Screen(S.MESSAGE_RULES)
    for conversation in parent_rows(conversations):
        yield from _screened_children(
            settings, screen, conversation["page_id"], f"{segment(conversation['id'])}/messages",
            S.MESSAGE_FIELDS,
            {"conversation_id": conversation["id"], "page_id": conversation["page_id"]})


@dlt.resource(name="ig_media", primary_key="id", write_disposition="merge",
              columns=VERSIONED)
@batched
def ig_media(settings: dict) -> Iterator[object]:
    """Media published by each owned Instagram account."""
    screen = Screen(S.IG_MEDIA_RULES)
    for account_id in settings["instagram_account_ids"]:
        yield from _windowed(settings, account_id, f"{segment(account_id)}/media",
                             S.IG_MEDIA_FIELDS, "timestamp", {"account_id": account_id}, screen)


@dlt.transformer(name="ig_comments", primary_key="id", write_disposition="merge",
                 columns=VERSIONED)
@batched
def ig_comments(media: list[dict], settings: dict) -> Iterator[object]:
    """Comments on each medium, with nested replies flattened into rows with ``parent_id``."""
    if is_quarantine(media):
        return
    screen = Screen(S.IG_COMMENT_RULES)
    for medium in parent_rows(media):
        path = f"{segment(medium['id'])}/comments"
        context = {"media_id": medium["id"], "account_id": medium["account_id"]}
        for items in _read(settings, medium["account_id"], path, S.IG_COMMENT_FIELDS):
            rows: list = []
            for comment in items:
                nested = comment.get("replies") if isinstance(comment, dict) else None
                replies = nested.get("data") if isinstance(nested, dict) else None
                if not isinstance(replies, list):
                    # no replies, or a shape to quarantine with its comment (never dropped)
                    rows.append(_with(comment, context))
                    continue
                comment = {k: v for k, v in comment.items() if k != "replies"}
                rows.append({**comment, **context})
                rows.extend({**r, "parent_id": r.get("parent_id") or comment.get("id"),
                             **context} if isinstance(r, dict) else r for r in replies)
            yield screen(rows, f"/{path}")
            yield from screen.rejected()
