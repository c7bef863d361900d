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
    includes = body.get("includes") if isinstance(body, dict) else None
    listed = includes.get("users") if isinstance(includes, dict) else None
    # A broken user or item is left for item screening to quarantine, never a crash here.
    users = {str(u["id"]): u for u in listed or [] if isinstance(u, dict)
             and isinstance(u.get("id"), str | int)}
    for item in items:
        key = item.get(author_key) if isinstance(item, dict) else None
        author = users.get(str(key)) if isinstance(key, str | int) else None
        yield {**item, "author": author} if author else item
