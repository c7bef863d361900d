"""Writers for recorded API pages and export files.

A recorded page is one JSON file holding an *envelope*: ``{"status", "headers", "body"}``, or a
list of envelopes that the replay server answers in turn (a 429, then the page). Page files live
at ``<root>/<platform>/<request path>/<cursor>.json`` where the cursor is ``first`` for the
first page. ``{{BASE}}`` in a file stands for the server's base URL of that platform.
Token-scoped endpoints (whose answer depends on the caller's token) live under
``<root>/<platform>/_as/<namespace>/<request path>/``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

BASE = "{{BASE}}"
FIRST = "first"


def page_dir(root: Path, platform: str, path: str, namespace: str | None = None) -> Path:
    """Directory that holds the recorded pages of one endpoint."""
    parts = [platform] + (["_as", namespace] if namespace else []) + path.strip("/").split("/")
    return root.joinpath(*parts)


def write_envelope(target: Path, body: Any, headers: dict[str, str] | None = None,
                   status: int = 200) -> None:
    """Write one recorded response."""
    target.parent.mkdir(parents=True, exist_ok=True)
    envelope = {"status": status, "headers": headers or {}, "body": body}
    target.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")


def write_object(root: Path, platform: str, path: str, body: dict) -> None:
    """Record the answer of a single-object endpoint (no list, no paging), e.g. Graph's
    ``/{page-id}?fields=...``: one page at ``<path>/first.json``."""
    write_envelope(page_dir(root, platform, path) / f"{FIRST}.json", body)


class PageWriter:
    """Buffers the items of one endpoint and writes them as linked pages.

    ``style`` is the platform's paging convention: ``x`` (``meta.next_token``), ``graph``
    (``paging.next``/``cursors.after``) or ``mastodon`` (``Link`` header, ``max_id``). Holds at
    most two pages in memory: a page is written once the next one starts, so it knows whether
    to link onwards.
    """

    def __init__(self, root: Path, platform: str, path: str, style: str, page_size: int,
                 namespace: str | None = None) -> None:
        self.directory = page_dir(root, platform, path, namespace)
        self.path = path.strip("/")
        self.style = style
        self.page_size = page_size
        self._pending: list[tuple[list[dict], dict[str, dict]]] = []
        self._items: list[dict] = []
        self._includes: dict[str, dict] = {}
        self._written = 0
        self.count = 0

    def add(self, item: dict, include_user: dict | None = None) -> None:
        """Add one item (and, for X, the user object it expands to)."""
        self._items.append(item)
        if include_user is not None:
            self._includes[include_user["id"]] = include_user
        self.count += 1
        if len(self._items) >= self.page_size:
            self._pending.append((self._items, self._includes))
            self._items, self._includes = [], {}
            if len(self._pending) > 1:
                self._flush_one(has_next=True)

    def close(self) -> None:
        """Write every buffered page; an endpoint with no items gets one empty page."""
        if self._items or (not self._pending and self._written == 0):
            self._pending.append((self._items, self._includes))
            self._items, self._includes = [], {}
        while self._pending:
            self._flush_one(has_next=len(self._pending) > 1)

    def _flush_one(self, has_next: bool) -> None:
        items, includes = self._pending.pop(0)
        number = self._written + 1
        name = FIRST if number == 1 else f"p{number}"
        token = f"p{number + 1}"
        headers: dict[str, str] = {}
        if self.style == "x":
            meta: dict[str, Any] = {"result_count": len(items)}
            if items:
                meta["newest_id"], meta["oldest_id"] = items[0]["id"], items[-1]["id"]
            if has_next:
                meta["next_token"] = token
            body: Any = {"meta": meta}
            if items:
                body["data"] = items
            if includes:
                body["includes"] = {"users": list(includes.values())}
        elif self.style == "graph":
            paging: dict[str, Any] = {"cursors": {"before": name, "after": token}}
            if has_next:
                paging["next"] = f"{BASE}/{self.path}?after={token}"
            body = {"data": items, "paging": paging}
        elif self.style == "mastodon":
            body = items
            if has_next:
                headers["Link"] = f'<{BASE}/{self.path}?max_id={token}>; rel="next"'
        else:
            raise ValueError(f"unknown paging style {self.style!r}")
        write_envelope(self.directory / f"{name}.json", body, headers)
        self._written += 1


class RecordFile:
    """A CSV or JSONL export file written row by row."""

    def __init__(self, target: Path, columns: list[str]) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        self.target = target
        self.columns = columns
        self._fh = target.open("w", encoding="utf-8", newline="")
        self._csv = None
        if target.suffix == ".csv":
            self._csv = csv.DictWriter(self._fh, fieldnames=columns)
            self._csv.writeheader()
        self.count = 0

    def write(self, row: dict) -> None:
        """Append one row; keys must be among the declared columns."""
        if self._csv is not None:
            self._csv.writerow(row)
        else:
            self._fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        self.count += 1

    def close(self) -> None:
        self._fh.close()
