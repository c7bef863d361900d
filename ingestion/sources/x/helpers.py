"""X specifics: cursor paging on ``meta.next_token`` and the ``includes.users`` expansion."""

from __future__ import annotations

from collections.abc import Iterator

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import JSONResponseCursorPaginator

from ingestion.sources.rest import api_client


def paginator() -> JSONResponseCursorPaginator:
    """Follows ``meta.next_token`` as ``pagination_token``; stops when it is absent."""
    return JSONResponseCursorPaginator(cursor_path="meta.next_token",
                                       cursor_param="pagination_token")


def client(settings: dict, token: str | None) -> RESTClient:
    """A client for the X API with the source's retry policy."""
    return api_client("x", settings["base_url"], token, settings["policy"])


def with_authors(items: list[dict], body: dict, author_key: str) -> Iterator[dict]:
    """Items with their user object from ``includes.users`` under ``author``."""
    users = {u["id"]: u for u in (body.get("includes") or {}).get("users", [])}
    for item in items:
        author = users.get(item.get(author_key))
        yield {**item, "author": author} if author else item
