"""Mastodon: notifications of the owned accounts, their statuses, and hashtag timelines.

Mastodon is self-hosted, so the instance URL is always configured. Pages are linked with the
``Link`` header; each owned account reads its own notifications with its own token.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.sources.mastodon import settings as S
from ingestion.sources.mastodon.helpers import with_text
from ingestion.sources.rest import api_client, pages, require


@dlt.source(name="mastodon")
def mastodon_source(
    base_url: str | None = dlt.config.value,
    account_ids: list[str] | None = dlt.config.value,
    hashtags: list[str] | None = dlt.config.value,
    access_tokens: dict[str, str] | None = dlt.secrets.value,
):
    """Mastodon resources for the owned accounts on one instance.

    Args:
        base_url: the instance, e.g. ``https://mastodon.social``.
        account_ids: ids of the owned accounts on that instance.
        hashtags: hashtags whose public timelines to read (brand hashtag chats), without ``#``.
        access_tokens: an access token per owned account id (read:notifications, read:statuses).
    """
    settings = {"base_url": base_url, "account_ids": account_ids, "hashtags": hashtags or [],
                "access_tokens": access_tokens}
    return notifications(settings), statuses(settings), tag_statuses(settings)


def _accounts(settings: dict) -> Iterator[tuple[str, str]]:
    tokens = require(settings["access_tokens"], "mastodon", "access_tokens", secret=True)
    for account_id in require(settings["account_ids"], "mastodon", "account_ids"):
        yield account_id, require(tokens.get(account_id), "mastodon",
                                  f"access_tokens.{account_id}", secret=True)


def _client(settings: dict, token: str | None = None):
    return api_client(require(settings["base_url"], "mastodon", "base_url"), token)


@dlt.resource(name="notifications", primary_key=("owned_account_id", "id"),
              write_disposition="merge")
def notifications(settings: dict) -> Iterator[dict]:
    """Notifications of every type (mentions, favourites, reblogs, follows) per owned account."""
    for account_id, token in _accounts(settings):
        params = {"limit": S.LIMIT, "types[]": list(S.NOTIFICATION_TYPES)}
        for items, _ in pages(_client(settings, token), "/api/v1/notifications",
                              HeaderLinkPaginator(), params, data_selector="$"):
            yield [{**n, "status": with_text(n.get("status")), "owned_account_id": account_id}
                   for n in items]


@dlt.resource(name="statuses", primary_key="id", write_disposition="merge")
def statuses(settings: dict) -> Iterator[dict]:
    """The owned accounts' own statuses, public posts, replies and direct messages."""
    for account_id, token in _accounts(settings):
        for items, _ in pages(_client(settings, token), f"/api/v1/accounts/{account_id}/statuses",
                              HeaderLinkPaginator(), {"limit": S.LIMIT}, data_selector="$"):
            yield [{**with_text(s), "owned_account_id": account_id} for s in items]


@dlt.resource(name="tag_statuses", primary_key=("hashtag", "id"), write_disposition="merge")
def tag_statuses(settings: dict) -> Iterator[dict]:
    """Public statuses of each configured hashtag timeline."""
    accounts = list(_accounts(settings))
    token = accounts[0][1] if accounts else None
    for hashtag in settings["hashtags"]:
        for items, _ in pages(_client(settings, token), f"/api/v1/timelines/tag/{hashtag}",
                              HeaderLinkPaginator(), {"limit": S.LIMIT}, data_selector="$"):
            yield [{**with_text(s), "hashtag": hashtag} for s in items]
