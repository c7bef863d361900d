"""A local HTTP server that answers API requests with recorded pages.

The demo (and the tests) point the real sources at this server through their ``base_url``
setting, so the demo runs the same paging, auth and parsing code as production. Pages are the
files :mod:`ingestion.demo.payloads` describes; the server picks the file from the request path,
the paging cursor (``pagination_token``, ``after`` or ``max_id``) and, for token-scoped
endpoints, the caller's token (``demo-<namespace>``).

Incremental requests are answered the way the platforms answer them, so a second night reads
only what is new: X ``since_id`` keeps items with a larger id, Graph ``since`` (unix seconds)
keeps items created or updated at or after it, and Mastodon ``min_id`` answers the oldest
``limit`` items newer than it (from the whole recorded chain), newest first, with a
``rel="prev"`` link to the next newer page and no link once nothing is left; conversations
(``/api/v1/conversations``) are compared by their last status' id, as Mastodon does.
``{{EPOCH+N}}`` in a recorded header stands for the current unix time plus N seconds (a
rate-limit reset just ahead).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

from dlt.common.json import json as fast_json

from ingestion.demo.payloads import BASE, FIRST

CURSOR_PARAMS = ("pagination_token", "after", "max_id")
TOKEN_PREFIX = "demo-"
EPOCH = re.compile(r"\{\{EPOCH\+(\d+)\}\}")
GRAPH_TIME_KEYS = ("created_time", "timestamp", "updated_time")
# Mastodon timelines paged by something other than the item's own id.
MASTODON_CONVERSATIONS = "api/v1/conversations"


def _load(path: Path) -> object:
    """A recorded file's JSON (orjson's speed; the standard parser for what orjson refuses,
    such as the lone surrogate escapes of the bad-input corpus)."""
    data = path.read_bytes()
    try:
        return fast_json.loadb(data)
    except ValueError:
        return json.loads(data.decode("utf-8"))


def _dump(body: object) -> str:
    try:
        return fast_json.dumps(body)
    except TypeError:  # lone surrogates, integers beyond 64 bits: sent as recorded
        return json.dumps(body, ensure_ascii=False)


class ReplayServer:
    """Serves ``root/<platform>/...`` on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = Path(root)
        self._served: dict[Path, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.requests: list[str] = []
        self.connections = 0  # TCP connections accepted (clients keep them alive)
        handler = self._handler_class()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def base_url(self, platform: str) -> str:
        """Base URL a source of ``platform`` (x, meta, mastodon) should be configured with."""
        return f"{self.url}/{platform}"

    def start(self) -> ReplayServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def next_envelope(self, target: Path) -> dict:
        """The envelope to answer for ``target``: a list of envelopes is answered in turn."""
        recorded = _load(target)
        if isinstance(recorded, dict):
            return recorded
        with self._lock:
            n = self._served[target]
            self._served[target] += 1
        return recorded[min(n, len(recorded) - 1)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Keep-alive, as the platforms' APIs answer; with Nagle's algorithm off, so the
            # body written after the headers is not held back waiting for an ACK.
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def setup(self) -> None:
                super().setup()
                with server._lock:
                    server.connections += 1

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                server.requests.append(self.path)
                platform, _, rest = parts.path.strip("/").partition("/")
                token = query.get("access_token") or self.headers.get("Authorization", "")
                token = token.split(" ", 1)[-1]
                if not token:
                    self._send(401, {}, {"error": "missing token"})
                    return
                target = server.resolve(platform, rest, query, token)
                if target is None:
                    self._send(404, {}, {"error": f"nothing recorded for {parts.path}"})
                    return
                envelope = server.next_envelope(target)
                base = server.base_url(platform)
                if "min_id" in query and platform == "mastodon":
                    envelope = server.min_id_page(target, envelope, query, f"{base}/{rest}",
                                                  position=mastodon_position(rest))
                body = filter_body(platform, envelope.get("body"), query)
                headers = {k: substitute(v, base) for k, v in envelope.get("headers",
                                                                           {}).items()}
                raw = envelope.get("raw")  # a deliberately broken body, sent as is
                payload = raw if raw is not None else _dump(body)
                self._send(envelope.get("status", 200), headers,
                           payload.replace(BASE, base))

            def _send(self, status: int, headers: dict[str, str], body: object) -> None:
                data = (body if isinstance(body, str) else json.dumps(body)).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return  # quiet: the pipelines log what they fetch

        return Handler

    def min_id_page(self, target: Path, envelope: dict, query: dict[str, str], url: str,
                    position: Callable[[dict], str] = lambda item: item["id"]) -> dict:
        """Mastodon's answer to ``min_id``: the oldest ``limit`` newer items, newest first,
        items ordered by ``position`` (their id, or for conversations their last status')."""
        if envelope.get("status", 200) != 200 or not isinstance(envelope.get("body"), list):
            return envelope  # an error recorded for this endpoint is answered as recorded
        min_id = _id_key(query["min_id"])
        items = [i for i in self._chain(target) if _id_key(position(i)) > min_id]
        page = sorted(items, key=lambda i: _id_key(position(i)))[:int(query.get("limit", 40))]
        headers = {}
        if page:
            rest = {k: v for k, v in query.items() if k != "min_id"}
            link = f"{url}?{urlencode({**rest, 'min_id': position(page[-1])})}"
            headers["Link"] = f'<{link}>; rel="prev"'
        return {"status": 200, "headers": headers, "body": page[::-1]}

    def _chain(self, first: Path) -> list[dict]:
        """Every item of a recorded Link-header chain, following ``max_id`` page names."""
        items, target = [], first
        while target is not None:
            envelope = _load(target)
            envelope = envelope[-1] if isinstance(envelope, list) else envelope
            items.extend(envelope.get("body") or [])
            found = re.search(r"max_id=([\w-]+)>", envelope.get("headers", {}).get("Link", ""))
            target = first.parent / f"{found.group(1)}.json" if found else None
        return items

    def resolve(self, platform: str, rest: str, query: dict[str, str], token: str
                ) -> Path | None:
        """The recorded page file for a request, or None."""
        cursor = next((query[p] for p in CURSOR_PARAMS if p in query), FIRST)
        if "/" in cursor or cursor.startswith("."):
            return None
        candidates = []
        if token.startswith(TOKEN_PREFIX):
            namespace = token[len(TOKEN_PREFIX):]
            candidates.append(self.root / platform / "_as" / namespace / rest / f"{cursor}.json")
        candidates.append(self.root / platform / rest / f"{cursor}.json")
        root = self.root.resolve()
        for candidate in candidates:
            if candidate.resolve().is_relative_to(root) and candidate.is_file():
                return candidate
        return None


def substitute(text: str, base: str) -> str:
    """A recorded header value with ``{{BASE}}`` and ``{{EPOCH+N}}`` filled in."""
    text = text.replace(BASE, base)
    return EPOCH.sub(lambda m: str(int(time.time()) + int(m.group(1))), text)


def mastodon_position(path: str) -> Callable[[dict], str]:
    """What a Mastodon timeline at ``path`` is paged by: the conversations list by the id of
    each conversation's last status, every other timeline by the item's id."""
    if path.strip("/").endswith(MASTODON_CONVERSATIONS):
        return lambda item: (item.get("last_status") or {}).get("id", "")
    return lambda item: item["id"]


def _id_key(value: str) -> tuple[int, str]:
    # Numeric ids compare as numbers; recorded pages may use any digit string length.
    return len(str(value)), str(value)


def _graph_epoch(value: str) -> float:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp()


def _x_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _x_keeps(item: dict, query: dict[str, str]) -> bool:
    try:
        if "since_id" in query and _id_key(item["id"]) <= _id_key(query["since_id"]):
            return False
        if "start_time" in query or "end_time" in query:
            created = _x_time(item["created_at"])
            if "start_time" in query and created < _x_time(query["start_time"]):
                return False
            if "end_time" in query and created >= _x_time(query["end_time"]):
                return False
    except (KeyError, TypeError, ValueError):
        # an item without a usable id or time (a compliance event, a broken item) is sent:
        # the source's screening decides about it, as it would for the platform's page
        return True
    return True


def filter_body(platform: str, body: object, query: dict[str, str]) -> object:
    """A recorded page with the platform's time and id filters applied: X ``since_id``,
    ``start_time`` and ``end_time`` (exclusive), Graph ``since`` and ``until`` (unix seconds,
    both inclusive as the Graph API treats them)."""
    x_filters = {"since_id", "start_time", "end_time"} & query.keys()
    if platform == "x" and x_filters and isinstance(body, dict) and body.get("data"):
        data = [i for i in body["data"] if _x_keeps(i, query)]
        meta = {**body.get("meta", {}), "result_count": len(data)}
        body = {**body, "meta": meta, "data": data}
        if not data:
            del body["data"]  # X omits data on an empty page
    graph_filters = {"since", "until"} & query.keys()
    if platform == "meta" and graph_filters and isinstance(body, dict) and body.get("data"):
        since, until = float(query.get("since", "-inf")), float(query.get("until", "inf"))
        key = next((k for k in GRAPH_TIME_KEYS if k in body["data"][0]), None)
        if key:
            body = {**body, "data": [i for i in body["data"]
                                     if since <= _graph_epoch(i[key]) <= until]}
    if platform == "meta" and graph_filters and isinstance(body, dict):
        body = _graph_next_with(body, {k: query[k] for k in sorted(graph_filters)})
    return body


def _graph_next_with(body: dict, params: dict[str, str]) -> dict:
    # The Graph API repeats the request's time filters in paging.next; recorded pages cannot.
    paging = body.get("paging")
    link = paging.get("next") if isinstance(paging, dict) else None
    if not isinstance(link, str):
        return body
    parts = urlsplit(link)
    query = {**{k: v[0] for k, v in parse_qs(parts.query).items()}, **params}
    return {**body, "paging": {**paging, "next": parts._replace(query=urlencode(query)).geturl()}}
