"""Mastodon: notifications of the owned accounts, their statuses and direct-message
conversations, and hashtag timelines.

Mastodon is self-hosted, so the instance URL is always configured. Pages are linked with the
``Link`` header; each owned account reads its own notifications with its own token. The first
night walks back through history (``rel="next"``, ``max_id``); later nights ask for what is
newer than the last loaded id (``min_id``) and walk forward (``rel="prev"``) until an empty
page. Statuses and conversations re-read ``lookback_days`` before their cursor, so edits
(``edited_at``) and late federated posts are merged by id. Conversations are paged by the id of
their last status (a conversation comes back whenever it gets a new one).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import dlt

from ingestion.sources.arrow import batched
from ingestion.sources.mastodon import settings as S
from ingestion.sources.mastodon.helpers import (
    clear_status_texts,
    paged,
    snowflake_at,
    status_lookback_id,
    with_text,
)
from ingestion.sources.mastodon.schema import RAW_COLUMNS
from ingestion.sources.rest import (
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
    HttpPolicy,
    api_client,
    as_parquet,
    checked,
    cursors,
    is_hashtag,
    newest_id,
    require,
    segment,
)
from ingestion.sources.validation import VERSIONED, Screen, path_value
from ingestion.sources.window import Window, backfill_window, parse_time


@dlt.source(name="mastodon")
def mastodon_source(
    base_url: str | None = dlt.config.value,
    account_ids: list[str] | None = dlt.config.value,
    hashtags: list[str] | None = dlt.config.value,
    access_tokens: dict[str, str] | None = dlt.secrets.value,
    lookback_days: float = 3.0,
    max_attempts: int = 5,
    max_wait_seconds: float = 900.0,
    backoff_seconds: float = 2.0,
    max_pages: int = DEFAULT_MAX_PAGES,
    request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
):
    """Mastodon resources for the owned accounts on one instance.

    Args:
        base_url: the instance, e.g. ``https://mastodon.social``.
        account_ids: ids of the owned accounts on that instance.
        hashtags: hashtags whose public timelines to read (brand hashtag chats), without ``#``.
        access_tokens: an access token per owned account id (read:notifications, read:statuses).
        lookback_days: how far behind the newest loaded status each night re-reads statuses.
        max_attempts: tries per request (429 until ``X-RateLimit-Reset``, 5xx, broken bodies).
        max_wait_seconds: longest single wait between tries.
        backoff_seconds: first backoff step (doubles each try).
        max_pages: pages one resource may read in a night, all its walks together; one
            more fails the resource (a server paging without end).
        request_deadline_seconds: longest one response may take, its body included.
        max_response_bytes: largest response body (decoded) a request accepts.
        start: with ``end``, a backfill: read what was created in ``[start, end)`` instead of
            what is new (statuses from the ``min_id`` of ``start``; notifications, whose ids
            are not time-ordered, walking back to ``start``); the cursors are kept as they are.
        end: the end of the backfill window (exclusive).
    """
    clear_status_texts()  # remembered per night, not across nights
    settings = {"window": backfill_window(start, end, "mastodon"),
                "base_url": base_url,
                "account_ids": checked(account_ids, "mastodon", "account_ids"),
                "hashtags": checked(hashtags, "mastodon", "hashtags", is_hashtag) or [],
                "access_tokens": access_tokens, "lookback_days": lookback_days,
                "policy": HttpPolicy(max_attempts=max_attempts, max_wait_seconds=max_wait_seconds,
                                     backoff_seconds=backoff_seconds, max_pages=max_pages,
                                     request_deadline_seconds=request_deadline_seconds,
                                     max_response_bytes=max_response_bytes)}
    return as_parquet(notifications(settings), statuses(settings), conversations(settings),
                      tag_statuses(settings), raw_columns=RAW_COLUMNS)


def _accounts(settings: dict) -> Iterator[tuple[str, str]]:
    tokens = require(settings["access_tokens"], "mastodon", "access_tokens", secret=True)
    for account_id in require(settings["account_ids"], "mastodon", "account_ids"):
        yield account_id, require(tokens.get(account_id), "mastodon",
                                  f"access_tokens.{account_id}", secret=True)


def _client(settings: dict, token: str | None = None):
    return api_client("mastodon", require(settings["base_url"], "mastodon", "base_url"), token,
                      settings["policy"])


def _incremental(settings: dict, token: str, path: str, key: str, params: dict,
                 lookback: bool, screen: Screen, position: str = "id",
                 time: str = "created_at") -> Iterator[list[dict]]:
    """Pages of a timeline newer than ``key``'s cursor; moves the cursor to the newest id.

    ``position`` is the field Mastodon pages the timeline by (``min_id`` compares it) and
    ``time`` the item's creation time. In a backfill, the pages of the window instead, leaving
    the cursor alone. Only valid items come out (and move the cursor); ``screen`` holds the
    others for the resource to yield."""
    if settings["window"]:
        # the status timelines (those with a lookback) are the ones paged by snowflake ids
        yield from _backfill(settings, token, path, params, by_id=lookback, screen=screen,
                             time=time)
        return
    state = cursors("min_id")
    last = state.get(key)
    since = status_lookback_id(last, settings["lookback_days"]) if lookback else last
    newest = last
    for items in paged(_client(settings, token), path, params, since):
        items = screen(items, path)
        for item in items:
            newest = newest_id(newest, path_value(item, position))
        yield items
    if newest:
        state[key] = newest


def _backfill(settings: dict, token: str, path: str, params: dict, by_id: bool,
              screen: Screen, time: str = "created_at") -> Iterator[list[dict]]:
    """The items of a timeline created (``time``) in the backfill window.

    Status ids are time-ordered snowflakes, so status timelines start at the ``min_id`` of the
    window's start and walk forward until past its end; notification ids are not, so those
    are read newest first back to the window's start."""
    window: Window = settings["window"]
    min_id = snowflake_at(window.start) if by_id else None
    for items in paged(_client(settings, token), path, params, min_id):
        items = screen(items, path)
        times = [parse_time(path_value(i, time)) for i in items]
        yield [i for i, t in zip(items, times, strict=True) if window.contains(t)]
        known = [t for t in times if t is not None]
        if known and (max(known) >= window.end if by_id else min(known) < window.start):
            break


@dlt.resource(name="notifications", primary_key=("owned_account_id", "id"),
              write_disposition="merge", columns={**S.NOTIFICATION_JSON, **VERSIONED})
@batched
def notifications(settings: dict) -> Iterator[object]:
    """Notifications of the types the warehouse models (mentions, statuses, reblogs,
    favourites, follows) per owned account; any other type an instance sends lands as sent."""
    screen = Screen(S.NOTIFICATION_RULES)
    for account_id, token in _accounts(settings):
        for items in _incremental(settings, token, "/api/v1/notifications", account_id,
                                  S.NOTIFICATION_PARAMS, lookback=False, screen=screen):
            yield [{**n, "status": with_text(n.get("status")), "owned_account_id": account_id}
                   for n in items]
            yield from screen.rejected()


@dlt.resource(name="statuses", primary_key="id", write_disposition="merge",
              columns={**S.STATUS_JSON, **VERSIONED})
@batched
def statuses(settings: dict) -> Iterator[object]:
    """The owned accounts' own statuses, public posts, replies and direct messages (their
    boosts of other people's statuses left out)."""
    screen = Screen(S.STATUS_RULES)
    for account_id, token in _accounts(settings):
        path = f"/api/v1/accounts/{segment(account_id)}/statuses"
        for items in _incremental(settings, token, path, account_id, S.OWN_STATUS_PARAMS,
                                  lookback=True, screen=screen):
            yield [{**with_text(s), "owned_account_id": account_id} for s in items]
            yield from screen.rejected()


@dlt.resource(name="conversations", primary_key=("owned_account_id", "id"),
              write_disposition="merge", columns={**S.CONVERSATION_JSON, **VERSIONED})
@batched
def conversations(settings: dict) -> Iterator[object]:
    """Direct-message conversations per owned account: participants (``accounts``, JSON) and
    the last status, flattened to ``last_status__*`` with ``last_status__content_text``.

    Each owned account reads its own list with its own token; the list is paged, and the
    cursor kept, by the last status' id, so a conversation that got a new message since the
    last night comes back and is merged by (owned account, conversation id). A backfill reads
    the conversations whose last status was written in the window."""
    screen = Screen(S.CONVERSATION_RULES)
    for account_id, token in _accounts(settings):
        for items in _incremental(settings, token, "/api/v1/conversations", account_id,
                                  {"limit": S.LIMIT}, lookback=True, screen=screen,
                                  position=S.CONVERSATION_POSITION, time=S.CONVERSATION_TIME):
            yield [{**c, "last_status": with_text(c["last_status"]),
                    "owned_account_id": account_id} for c in items]
            yield from screen.rejected()


@dlt.resource(name="tag_statuses", primary_key=("hashtag", "id"), write_disposition="merge",
              columns={**S.STATUS_JSON, **VERSIONED})
@batched
def tag_statuses(settings: dict) -> Iterator[object]:
    """Public statuses of each configured hashtag timeline."""
    if not settings["hashtags"]:
        return
    screen = Screen(S.STATUS_RULES)
    token = next(_accounts(settings))[1]
    for hashtag in settings["hashtags"]:
        path = f"/api/v1/timelines/tag/{segment(hashtag)}"
        for items in _incremental(settings, token, path, hashtag, {"limit": S.LIMIT},
                                  lookback=True, screen=screen):
            yield [{**with_text(s), "hashtag": hashtag} for s in items]
            yield from screen.rejected()
