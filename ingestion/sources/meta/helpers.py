"""Graph API specifics: ``paging.next`` links, Graph timestamps and the ``since`` window."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from dlt.common.jsonpath import compile_path
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator
from requests import Response

# Compiled once: a paginator is made for every edge walked (one per post's comments, per
# thread's messages), and compiling the path each time cost more than the request.
_NEXT = compile_path("paging.next")


class GraphPaginator(JSONLinkPaginator):
    """Follows ``paging.next`` and stops when a page has none (Graph omits it on the last page).

    Graph writes the access token into ``paging.next``; it is dropped from the URL because the
    client sends the token as a header, so it never reaches a log line.
    """

    def __init__(self) -> None:
        super().__init__(next_url_path=_NEXT)

    def update_state(self, response: Response, data: list | None = None) -> None:
        """Take ``paging.next`` without its ``access_token`` parameter."""
        super().update_state(response, data)
        if self._next_reference:
            parts = urlsplit(self._next_reference)
            query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                     if k != "access_token"]
            self._next_reference = urlunsplit(parts._replace(query=urlencode(query)))


def epoch(graph_time: str | None) -> int | None:
    """Unix seconds of a Graph time (``2026-09-05T17:50:27+0000``), or None."""
    if not graph_time:
        return None
    return int(datetime.strptime(graph_time, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def since_param(cursor: int | None, lookback_days: float) -> dict[str, int]:
    """The ``since`` filter for a cursor: re-read ``lookback_days`` so late comments, edited
    counts and new replies on recent posts are merged in; nothing on the first night."""
    if cursor is None:
        return {}
    return {"since": int(cursor - lookback_days * 86400)}
