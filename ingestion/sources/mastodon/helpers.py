"""Mastodon specifics: ``Link``-header paging with ``min_id``, and HTML content as text."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator
from requests import Request

from ingestion.sources.rest import pages

# Mastodon status ids are snowflakes: milliseconds since the epoch shifted left by 16 bits.
_SNOWFLAKE_SHIFT = 16


class _FilteredLinkPaginator(HeaderLinkPaginator):
    """Follows the ``Link`` header, asking every page with the first request's filters
    (``types[]``, ``exclude_reblogs``): Mastodon repeats them in its links, but a link that
    drops or shortens one (another server, a proxy) would otherwise widen the filter from the
    second page on. The rest of the link (cursor, page size) is kept as it is."""

    def __init__(self, links_next_key: str, filters: dict) -> None:
        super().__init__(links_next_key=links_next_key)
        self._filters = filters

    def update_request(self, request: Request) -> None:
        super().update_request(request)
        if not request.url or not self._filters:  # no next page (dlt asks before it checks)
            return
        parts = urlsplit(request.url)
        kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                if k not in self._filters]
        request.url = parts._replace(query=urlencode([*kept, *self._filters.items()],
                                                     doseq=True)).geturl()


def paged(client: RESTClient, path: str, params: dict, min_id: str | None
          ) -> Iterator[list[dict]]:
    """Pages of a timeline: all of it walking back (``rel="next"``) when ``min_id`` is None,
    else what is newer than ``min_id`` walking forward (``rel="prev"``) to an empty page.
    Every page is asked with the filters of ``params`` (all but ``limit``), whatever the
    links repeat."""
    filters = {k: v for k, v in params.items() if k != "limit"}
    if min_id is None:
        paginator = _FilteredLinkPaginator("next", filters)
        query = params
    else:
        # With min_id Mastodon answers the oldest page after it; "prev" links to newer ones and
        # is absent once a page is empty, which ends the walk.
        paginator = _FilteredLinkPaginator("prev", filters)
        query = {**params, "min_id": min_id}
    for items, _ in pages(client, path, paginator, query, data_selector="$"):
        yield items


def snowflake_at(moment: datetime) -> str:
    """The smallest status id of ``moment`` (ids are time-ordered snowflakes)."""
    return str(int(moment.timestamp() * 1000) << _SNOWFLAKE_SHIFT)


def status_lookback_id(min_id: str | None, lookback_days: float) -> str | None:
    """A status id ``lookback_days`` older than ``min_id`` (ids are time-ordered snowflakes)."""
    if min_id is None or not min_id.isdigit():
        return min_id
    shifted = int(lookback_days * 86_400_000) << _SNOWFLAKE_SHIFT
    return str(max(0, int(min_id) - shifted))


class _TextExtractor(HTMLParser):
    # Script and style bodies are code, not words anyone wrote: kept in ``content``, never in
    # the text that sentiment and relevance read.
    _CODE = ("script", "style")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._in_code = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self._CODE:
            self._in_code += 1
        if tag in ("br", "p") and self.parts:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._CODE and self._in_code:
            self._in_code -= 1

    def handle_data(self, data: str) -> None:
        if not self._in_code:
            self.parts.append(data)


def html_to_text(html: str | None) -> str | None:
    """Plain text of a status' HTML content: tags dropped, entities decoded, paragraphs kept."""
    if html is None:
        return None
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts).strip()


def with_text(status: dict | None) -> dict | None:
    """A status with ``content_text`` added next to its HTML ``content``."""
    if not status:
        return status
    return {**status, "content_text": _status_text(status.get("id"), status.get("content"))}


@functools.lru_cache(maxsize=16_384)
def _status_text(status_id: object, html: str | None) -> str | None:
    # One status arrives in several timelines of a night (its account's, the mention
    # notification, the conversation, a hashtag's; in the demo over half the statuses read are
    # repeats) and parsing HTML in Python is the slowest step of reading one: remembered per
    # status and content (an edit is parsed anew) within one night.
    return html_to_text(html)


def clear_status_texts() -> None:
    """Forget the remembered status texts (each source run starts afresh)."""
    _status_text.cache_clear()
