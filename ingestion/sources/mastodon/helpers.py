"""Mastodon specifics: statuses carry HTML, the warehouse wants text."""

from __future__ import annotations

from html.parser import HTMLParser


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in ("br", "p") and self.parts:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
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
    return {**status, "content_text": html_to_text(status.get("content"))}
