"""A loopback HTTP server that answers as a test tells it to: the hostile or broken API.

The recorded-page replay server (``ingestion.demo.replay``) answers what the platforms send;
this one answers what they should never send: links to other hosts, pages without end,
bodies that drip or never stop, absurd headers. A test gives it one function from the request
to the answer; the server records every request with its ``Authorization`` header.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit


@dataclass(frozen=True)
class Asked:
    """One request the server received."""

    path: str
    query: dict[str, str]
    authorization: str
    target: str  # path and query as sent


@dataclass
class Answer:
    """What to send back. ``body`` is JSON-encoded unless it is bytes or text; ``drip``
    sends it one byte per that many seconds; ``chunks`` (instead of a body) streams them
    with chunked transfer encoding, for as long as the client reads."""

    status: int = 200
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    drip: float | None = None
    chunks: Iterable[bytes] | None = None


class HostileServer:
    """Serves ``answer(asked)`` on 127.0.0.1; a context manager."""

    def __init__(self, answer: Callable[[Asked], Answer]) -> None:
        self.answer = answer
        self.requests: list[Asked] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def paths(self, fragment: str = "") -> list[str]:
        """The targets asked so far that contain ``fragment``."""
        return [r.target for r in self.requests if fragment in r.target]

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                asked = Asked(parts.path, dict(parse_qsl(parts.query)),
                              self.headers.get("Authorization", ""), self.path)
                server.requests.append(asked)
                answer = server.answer(asked)
                try:
                    self._send(answer)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up on us: what the test wants to see

            def _send(self, answer: Answer) -> None:
                self.send_response(answer.status)
                self.send_header("Content-Type", "application/json")
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                if answer.chunks is not None:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for chunk in answer.chunks:
                        self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                    self.wfile.write(b"0\r\n\r\n")
                    return
                body = answer.body
                data = (body if isinstance(body, bytes) else body.encode()
                        if isinstance(body, str) else json.dumps(body).encode())
                if "Content-Length" not in answer.headers:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if answer.drip is None:
                    self.wfile.write(data)
                    return
                for byte in data:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(answer.drip)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                return

        return Handler
