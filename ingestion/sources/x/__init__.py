"""X API v2: mentions of the owned accounts, their posts and replies, DMs and keyword search.

Every tweet row carries its author (from the page's ``includes.users`` expansion) as
``author__*`` columns, so user public_metrics land with the tweets that name them.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from ingestion.sources.rest import api_client, pages, require
from ingestion.sources.x import settings as S


def _paginator() -> JSONResponseCursorPaginator:
    return JSONResponseCursorPaginator(cursor_path="meta.next_token",
                                       cursor_param="pagination_token")


def _with_authors(items: list[dict], body: dict, author_key: str) -> Iterator[dict]:
    users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
    for item in items:
        author = users.get(item.get(author_key))
        yield {**item, "author": author} if author else item


@dlt.source(name="x")
def x_source(
    base_url: str | None = dlt.config.value,
    account_ids: list[str] | None = dlt.config.value,
    search_query: str | None = dlt.config.value,
    bearer_token: str | None = dlt.secrets.value,
    user_tokens: dict[str, str] | None = dlt.secrets.value,
):
    """X API v2 resources for the owned accounts.

    Args:
        base_url: API root, ``https://api.x.com`` unless pointed at a replay server.
        account_ids: numeric ids of the owned accounts.
        search_query: recent-search query for brand and competitor keywords.
        bearer_token: app token for mentions, timelines and search.
        user_tokens: per-account user-context tokens, required for DM events.
    """
    settings = {"base_url": base_url or S.DEFAULT_BASE_URL, "account_ids": account_ids,
                "search_query": search_query, "bearer_token": bearer_token,
                "user_tokens": user_tokens}
    return (
        mentions(settings),
        posts(settings),
        dm_events(settings),
        search_results(settings),
    )


def _client(settings: dict):
    return api_client(settings["base_url"],
                      require(settings["bearer_token"], "x", "bearer_token", secret=True))


def _timeline(settings: dict, endpoint: str) -> Iterator[dict]:
    client = _client(settings)
    for account_id in require(settings["account_ids"], "x", "account_ids"):
        params = {"max_results": S.MAX_RESULTS, "tweet.fields": S.TWEET_FIELDS,
                  "expansions": "author_id", "user.fields": S.USER_FIELDS}
        for items, body in pages(client, f"/2/users/{account_id}/{endpoint}", _paginator(),
                                 params):
            for tweet in _with_authors(items, body, "author_id"):
                yield {**tweet, "owned_account_id": account_id}


@dlt.resource(name="mentions", primary_key=("owned_account_id", "id"),
              write_disposition="merge", columns=S.JSON_COLUMNS)
def mentions(settings: dict) -> Iterator[dict]:
    """Tweets mentioning an owned account (inbound), one row per account mentioned."""
    yield from _timeline(settings, "mentions")


@dlt.resource(name="posts", primary_key="id", write_disposition="merge", columns=S.JSON_COLUMNS)
def posts(settings: dict) -> Iterator[dict]:
    """The owned accounts' own tweets and replies (outbound)."""
    yield from _timeline(settings, "tweets")


@dlt.resource(name="dm_events", primary_key=("owned_account_id", "id"),
              write_disposition="merge")
def dm_events(settings: dict) -> Iterator[dict]:
    """Direct-message events of each owned account (both directions)."""
    client = api_client(settings["base_url"], None)
    tokens = require(settings["user_tokens"], "x", "user_tokens", secret=True)
    for account_id in require(settings["account_ids"], "x", "account_ids"):
        token = require(tokens.get(account_id), "x", f"user_tokens.{account_id}", secret=True)
        params = {"max_results": S.MAX_RESULTS, "dm_event.fields": S.DM_EVENT_FIELDS,
                  "expansions": "sender_id", "user.fields": S.USER_FIELDS}
        for items, body in pages(client, "/2/dm_events", _paginator(), params, token=token):
            for event in _with_authors(items, body, "sender_id"):
                yield {**event, "owned_account_id": account_id}


@dlt.resource(name="search_results", primary_key="id", write_disposition="merge",
              columns=S.JSON_COLUMNS)
def search_results(settings: dict) -> Iterator[dict]:
    """Recent tweets matching the brand and competitor keyword query."""
    query = settings["search_query"]
    if not query:
        return
    params = {"query": query, "max_results": S.MAX_RESULTS, "tweet.fields": S.TWEET_FIELDS,
              "expansions": "author_id", "user.fields": S.USER_FIELDS}
    for items, body in pages(_client(settings), "/2/tweets/search/recent", _paginator(), params):
        yield from _with_authors(items, body, "author_id")
