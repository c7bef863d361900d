"""X API v2: mentions of the owned accounts, their posts and replies, DMs and keyword search.

Every tweet row carries its author (from the page's ``includes.users`` expansion, with
``public_metrics``) as ``author__*`` columns. Timelines and search read only what is newer
than the last loaded id (``since_id``, per owned account); DM events have no ``since_id``, so
their pages are read newest first until one reaches the last loaded event.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import dlt

from ingestion.sources.arrow import batched
from ingestion.sources.rest import (
    DEFAULT_MAX_PAGES,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_DEADLINE_SECONDS,
    HttpPolicy,
    as_parquet,
    checked,
    cursors,
    newest_id,
    pages,
    require,
    segment,
)
from ingestion.sources.validation import VERSIONED, Screen
from ingestion.sources.window import Window, backfill_window, parse_time
from ingestion.sources.x import settings as S
from ingestion.sources.x.helpers import client, paginator, with_authors
from ingestion.sources.x.schema import RAW_COLUMNS


@dlt.source(name="x")
def x_source(
    base_url: str | None = dlt.config.value,
    account_ids: list[str] | None = dlt.config.value,
    search_query: str | None = dlt.config.value,
    bearer_token: str | None = dlt.secrets.value,
    user_tokens: dict[str, str] | None = dlt.secrets.value,
    max_attempts: int = 5,
    max_wait_seconds: float = 900.0,
    backoff_seconds: float = 2.0,
    max_pages: int = DEFAULT_MAX_PAGES,
    request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE_SECONDS,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    start: datetime | str | None = None,
    end: datetime | str | None = None,
):
    """X API v2 resources for the owned accounts.

    Args:
        base_url: API root, ``https://api.x.com`` unless pointed at a replay server.
        account_ids: numeric ids of the owned accounts.
        search_query: recent-search query for brand and competitor keywords.
        bearer_token: app token for mentions, timelines and search.
        user_tokens: per-account user-context tokens, required for DM events.
        max_attempts: tries per request (rate limits, 5xx, truncated bodies).
        max_wait_seconds: longest single wait, e.g. for ``x-rate-limit-reset``.
        backoff_seconds: first backoff step for 5xx and broken bodies (doubles each try).
        max_pages: pages one resource may read in a night, all its walks together; one
            more fails the resource (a server paging without end).
        request_deadline_seconds: longest one response may take, its body included.
        max_response_bytes: largest response body (decoded) a request accepts.
        start: with ``end``, a backfill: read tweets and DMs created in ``[start, end)``
            (``start_time``/``end_time``) instead of what is new, and keep the cursors as
            they are. Recent search only reaches back seven days on X.
        end: the end of the backfill window (exclusive).
    """
    settings = {"window": backfill_window(start, end, "x"),
                "base_url": base_url or S.DEFAULT_BASE_URL,
                "account_ids": checked(account_ids, "x", "account_ids"),
                "search_query": search_query, "bearer_token": bearer_token,
                "user_tokens": user_tokens,
                "policy": HttpPolicy(max_attempts=max_attempts, max_wait_seconds=max_wait_seconds,
                                     backoff_seconds=backoff_seconds, max_pages=max_pages,
                                     request_deadline_seconds=request_deadline_seconds,
                                     max_response_bytes=max_response_bytes)}
    return as_parquet(
        mentions(settings),
        posts(settings),
        dm_events(settings),
        search_results(settings),
        raw_columns=RAW_COLUMNS,
    )


def _timeline(settings: dict, endpoint: str) -> Iterator[list[dict]]:
    screen = Screen(S.TWEET_RULES)
    api = client(settings, require(settings["bearer_token"], "x", "bearer_token", secret=True))
    since = cursors("since_id")
    for account_id in require(settings["account_ids"], "x", "account_ids"):
        params = {"max_results": S.MAX_RESULTS, "tweet.fields": S.TWEET_FIELDS,
                  "expansions": "author_id", "user.fields": S.USER_FIELDS}
        if settings["window"]:
            params.update(_time_params(settings["window"]))
        elif since.get(account_id):
            params["since_id"] = since[account_id]
        newest = since.get(account_id)
        path = f"/2/users/{segment(account_id)}/{endpoint}"
        for items, body in pages(api, path, paginator(), params):
            rows = screen([{**t, "owned_account_id": account_id} if isinstance(t, dict) else t
                           for t in with_authors(items, body, "author_id")], path)
            yield from screen.rejected()
            for row in rows:
                newest = newest_id(newest, row["id"])
            yield rows
        if newest and not settings["window"]:
            since[account_id] = newest


def _time_params(window: Window) -> dict[str, str]:
    # X wants RFC 3339 with seconds; end_time is exclusive like the window's end.
    return {"start_time": window.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end_time": window.end.strftime("%Y-%m-%dT%H:%M:%SZ")}


@dlt.resource(name="mentions", primary_key=("owned_account_id", "id"),
              write_disposition="merge", columns={**S.JSON_COLUMNS, **VERSIONED})
@batched
def mentions(settings: dict) -> Iterator[list[dict]]:
    """Tweets mentioning an owned account (inbound), one row per account mentioned."""
    yield from _timeline(settings, "mentions")


@dlt.resource(name="posts", primary_key="id", write_disposition="merge",
              columns={**S.JSON_COLUMNS, **VERSIONED})
@batched
def posts(settings: dict) -> Iterator[list[dict]]:
    """The owned accounts' own tweets and replies (outbound)."""
    yield from _timeline(settings, "tweets")


@dlt.resource(name="dm_events", primary_key=("owned_account_id", "id"),
              write_disposition="merge", columns=VERSIONED)
@batched
def dm_events(settings: dict) -> Iterator[list[dict]]:
    """Direct-message events of each owned account (both directions)."""
    tokens = settings["user_tokens"]
    if not tokens:  # DMs need user-context tokens; without them the team reads no DMs
        return
    screen = Screen(S.DM_EVENT_RULES)
    api = client(settings, None)
    seen = cursors("last_event_id")
    for account_id in require(settings["account_ids"], "x", "account_ids"):
        token = require(tokens.get(account_id), "x", f"user_tokens.{account_id}", secret=True)
        params = {"max_results": S.MAX_RESULTS, "dm_event.fields": S.DM_EVENT_FIELDS,
                  "expansions": "sender_id", "user.fields": S.USER_FIELDS}
        last, newest = seen.get(account_id), seen.get(account_id)
        window = settings["window"]
        for items, body in pages(api, "/2/dm_events", paginator(), params, token=token):
            rows = screen([{**e, "owned_account_id": account_id} if isinstance(e, dict) else e
                           for e in with_authors(items, body, "sender_id")], "/2/dm_events")
            yield from screen.rejected()
            if window:
                # No time filter on this endpoint: a backfill keeps the window's events and
                # stops at the first page reaching back before it (newest first).
                times = [parse_time(r.get("created_at")) for r in rows]
                yield [r for r, t in zip(rows, times, strict=True) if window.contains(t)]
                if any(t is not None and t < window.start for t in times):
                    break
                continue
            for row in rows:
                newest = newest_id(newest, row["id"])
            yield rows
            # The endpoint has no since_id: stop once a page reaches what the last night loaded
            # (the rest of that page is merged by key, not lost).
            if last and any(newest_id(last, r["id"]) == last for r in rows):
                break
        if newest and not window:
            seen[account_id] = newest


@dlt.resource(name="search_results", primary_key="id", write_disposition="merge",
              columns={**S.JSON_COLUMNS, **VERSIONED})
@batched
def search_results(settings: dict) -> Iterator[list[dict]]:
    """Recent tweets matching the brand and competitor keyword query."""
    query = settings["search_query"]
    if not query:
        return
    screen = Screen(S.TWEET_RULES)
    api = client(settings, require(settings["bearer_token"], "x", "bearer_token", secret=True))
    since = cursors("since_id")
    params = {"query": query, "max_results": S.MAX_RESULTS, "tweet.fields": S.TWEET_FIELDS,
              "expansions": "author_id", "user.fields": S.USER_FIELDS}
    if settings["window"]:
        params.update(_time_params(settings["window"]))
    elif since.get("query") and since.get("query_text") == query:
        params["since_id"] = since["query"]
    newest = params.get("since_id")
    for items, body in pages(api, "/2/tweets/search/recent", paginator(), params):
        rows = screen(list(with_authors(items, body, "author_id")), "/2/tweets/search/recent")
        yield from screen.rejected()
        for row in rows:
            newest = newest_id(newest, row["id"])
        yield rows
    if newest and not settings["window"]:
        since.update(query=newest, query_text=query)
