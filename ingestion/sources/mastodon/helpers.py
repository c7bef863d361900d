"""Mastodon specifics: ``Link``-header paging with ``min_id``, and HTML content as text."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import datetime
from html.parser import HTMLParser

from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.paginators import HeaderLinkPaginator

from ingestion.sources.rest import pages

# Mastodon status ids are snowflakes: milliseconds since the epoch shifted left by 16 bits.
_SNOWFLAKE_SHIFT = 16


def paged(client: RESTClient, path: str, params: dict, min_id: str | None
          ) -> Iterator[list[dict]]:
    """Pages of a timeline: all of it walking back (``rel="next"``) when ``min_id`` is None,
    else what is newer than ``min_id`` walking forward (``rel="prev"``) to an empty page."""
    if min_id is None:
        paginator = HeaderLinkPaginator(links_next_key="next")
        query = params
    else:
        # With min_id Mastodon answers the oldest page after it; "prev" links to newer ones and
        # is absent once a page is empty, which ends the walk.
        paginator = HeaderLinkPaginator(links_next_key="prev")
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
