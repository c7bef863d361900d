"""Mastodon: notifications of the owned accounts, their statuses, and hashtag timelines.

Mastodon is self-hosted, so the instance URL is always configured. Pages are linked with the
``Link`` header; each owned account reads its own notifications with its own token. The first
night walks back through history (``rel="next"``, ``max_id``); later nights ask for what is
newer than the last loaded id (``min_id``) and walk forward (``rel="prev"``) until an empty
page. Statuses re-read ``lookback_days`` before their cursor, so edits (``edited_at``) and late
federated posts are merged by id.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt

from ingestion.sources.mastodon import settings as S
from ingestion.sources.mastodon.helpers import paged, status_lookback_id, with_text
from ingestion.sources.rest import HttpPolicy, api_client, as_parquet, cursors, newest_id, require


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
    """
    settings = {"base_url": base_url, "account_ids": account_ids, "hashtags": hashtags or [],
                "access_tokens": access_tokens, "lookback_days": lookback_days,
                "policy": HttpPolicy(max_attempts, max_wait_seconds, backoff_seconds)}
    return as_parquet(notifications(settings), statuses(settings), tag_statuses(settings))


def _accounts(settings: dict) -> Iterator[tuple[str, str]]:
    tokens = require(settings["access_tokens"], "mastodon", "access_tokens", secret=True)
    for account_id in require(settings["account_ids"], "mastodon", "account_ids"):
        yield account_id, require(tokens.get(account_id), "mastodon",
                                  f"access_tokens.{account_id}", secret=True)


def _client(settings: dict, token: str | None = None):
    return api_client("mastodon", require(settings["base_url"], "mastodon", "base_url"), token,
                      settings["policy"])


def _incremental(settings: dict, token: str, path: str, key: str, params: dict,
                 lookback: bool) -> Iterator[list[dict]]:
    """Pages of a timeline newer than ``key``'s cursor; moves the cursor to the newest id."""
    state = cursors("min_id")
    last = state.get(key)
    since = status_lookback_id(last, settings["lookback_days"]) if lookback else last
    newest = last
    for items in paged(_client(settings, token), path, params, since):
        for item in items:
            newest = newest_id(newest, item["id"])
        yield items
    if newest:
        state[key] = newest


@dlt.resource(name="notifications", primary_key=("owned_account_id", "id"),
              write_disposition="merge")
def notifications(settings: dict) -> Iterator[list[dict]]:
    """Notifications of every type (mentions, favourites, reblogs, follows) per owned account."""
    for account_id, token in _accounts(settings):
        params = {"limit": S.LIMIT, "types[]": list(S.NOTIFICATION_TYPES)}
        for items in _incremental(settings, token, "/api/v1/notifications", account_id, params,
                                  lookback=False):
            yield [{**n, "status": with_text(n.get("status")), "owned_account_id": account_id}
                   for n in items]


@dlt.resource(name="statuses", primary_key="id", write_disposition="merge")
def statuses(settings: dict) -> Iterator[list[dict]]:
    """The owned accounts' own statuses, public posts, replies and direct messages."""
    for account_id, token in _accounts(settings):
        for items in _incremental(settings, token, f"/api/v1/accounts/{account_id}/statuses",
                                  account_id, {"limit": S.LIMIT}, lookback=True):
            yield [{**with_text(s), "owned_account_id": account_id} for s in items]


@dlt.resource(name="tag_statuses", primary_key=("hashtag", "id"), write_disposition="merge")
def tag_statuses(settings: dict) -> Iterator[list[dict]]:
    """Public statuses of each configured hashtag timeline."""
    if not settings["hashtags"]:
        return
    token = next(_accounts(settings))[1]
    for hashtag in settings["hashtags"]:
        for items in _incremental(settings, token, f"/api/v1/timelines/tag/{hashtag}", hashtag,
                                  {"limit": S.LIMIT}, lookback=True):
            yield [{**with_text(s), "hashtag": hashtag} for s in items]
