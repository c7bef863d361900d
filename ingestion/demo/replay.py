"""A local HTTP server that answers API requests with recorded pages.

The demo (and the tests) point the real sources at this server through their ``base_url``
setting, so the demo runs the same paging, auth and parsing code as production. Pages are the
files :mod:`ingestion.demo.payloads` describes; the server picks the file from the request path,
the paging cursor (``pagination_token``, ``after`` or ``max_id``) and, for token-scoped
endpoints, the caller's token (``demo-<namespace>``).
"""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ingestion.demo.payloads import BASE, FIRST

CURSOR_PARAMS = ("pagination_token", "after", "max_id")
TOKEN_PREFIX = "demo-"


class ReplayServer:
    """Serves ``root/<platform>/...`` on 127.0.0.1; use as a context manager or start/stop."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = Path(root)
        self._served: dict[Path, int] = defaultdict(int)
        self._lock = threading.Lock()
        self.requests: list[str] = []
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
        recorded = json.loads(target.read_text(encoding="utf-8"))
        if isinstance(recorded, dict):
            return recorded
        with self._lock:
            n = self._served[target]
            self._served[target] += 1
        return recorded[min(n, len(recorded) - 1)]

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
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
                body = envelope.get("body")
                headers = {k: v.replace(BASE, base) for k, v in envelope.get("headers",
                                                                             {}).items()}
                raw = envelope.get("raw")  # a deliberately broken body, sent as is
                payload = raw if raw is not None else json.dumps(body, ensure_ascii=False)
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
