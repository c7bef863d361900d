"""HTTP plumbing shared by the API sources: one retrying client, clear errors, paging, cursors.

Every API call goes through :class:`PolicySession`, which retries what a platform means as
"try again later" and turns everything else into a :class:`SourceHTTPError` naming the source
and the endpoint (never the query string, never a token):

- HTTP 429 waits until the platform's reset time: ``x-rate-limit-reset`` (X, epoch seconds),
  ``X-RateLimit-Reset`` (Mastodon, ISO time) or ``Retry-After``;
- Graph API throttling arrives as HTTP 400/403 with error code 4, 17, 32 or 613: backed off;
- 5xx, dropped connections and 2xx bodies that are not valid JSON (a truncated page) are
  retried with exponential backoff;
- every wait is capped by ``max_wait_seconds`` and the number of tries by ``max_attempts``.

Cursors (``since_id``, ``since``, ``min_id``) live in the resource's dlt state, which dlt
commits together with the loaded data: a night that fails before its data lands leaves them
where they were.
"""

from __future__ import annotations

import functools
import json as stdjson
import logging
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import dlt
from dlt.common import json
from dlt.common.jsonpath import JSONPath, compile_path
from dlt.common.schema.typing import TDataType
from dlt.extract.resource import DltResource
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from requests import PreparedRequest, Response
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout

from ingestion.sources.arrow import ArrowPages, declare_raw_columns

logger = logging.getLogger(__name__)

# Graph API throttling: 4 app, 17 user, 32 page, 613 custom rate limit (sent as HTTP 400/403).
GRAPH_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
RETRY_EXCEPTIONS = (ConnectionError, Timeout, ChunkedEncodingError)
_BROKEN = object()


class SourceConfigError(ValueError):
    """A setting a source needs is missing; the message names the setting and its env var."""


class SourceHTTPError(RuntimeError):
    """An API call failed for good; the message names source, endpoint, status and reason."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def require(value: Any, source: str, setting: str, secret: bool = False) -> Any:
    """Return ``value`` or explain which setting to provide."""
    if value in (None, "", [], {}):
        where = "secrets.toml" if secret else "config.toml"
        env = f"SOURCES__{source.upper()}__{setting.upper().replace('.', '__')}"
        raise SourceConfigError(
            f"source '{source}' needs setting '{setting}': set [sources.{source}] {setting} "
            f"in .dlt/{where} or the environment variable {env}"
        )
    return value


@dataclass(frozen=True)
class HttpPolicy:
    """How hard a source tries: attempts per request, longest single wait, backoff base."""

    max_attempts: int = 5
    max_wait_seconds: float = 900.0
    backoff_seconds: float = 2.0
    timeout_seconds: float = 60.0


def _json_body(response: Response) -> Any:
    """The parsed body, cached on the response (parsed once, read by retry check and pager)."""
    cached = getattr(response, "_rapport_json", None)
    if cached is None:
        try:
            cached = json.loadb(response.content)
        except (ValueError, TypeError):
            cached = _lenient_json(response.content)
        response._rapport_json = cached  # type: ignore[attr-defined]
        if cached is not _BROKEN:
            response.json = lambda **_: cached  # type: ignore[method-assign]
    return cached


def _lenient_json(content: bytes) -> Any:
    # orjson refuses a whole page for one lone surrogate escape (\ud800) in one item; the
    # standard parser reads it, and item screening quarantines just that item.
    try:
        return stdjson.loads(content.decode("utf-8"))
    except (ValueError, TypeError):
        return _BROKEN


def _graph_error_code(response: Response) -> int | None:
    body = _json_body(response)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        return code if isinstance(code, int) else None
    return None


def retry_reason(response: Response | None, error: BaseException | None) -> str | None:
    """Why a request should be tried again, or None when its outcome is final."""
    if error is not None:
        return f"connection failed ({type(error).__name__})"
    assert response is not None
    status = response.status_code
    if status == 429:
        return "rate limited (HTTP 429)"
    if status >= 500:
        return f"server error (HTTP {status})"
    if status in (400, 403) and _graph_error_code(response) in GRAPH_RATE_LIMIT_CODES:
        return f"Graph API rate limit (error code {_graph_error_code(response)})"
    if status < 300 and _json_body(response) is _BROKEN:
        return "body is not valid JSON (truncated response?)"
    return None


def _reset_delay(response: Response, now: float) -> float | None:
    # X sends epoch seconds, Mastodon an ISO time; requests' headers are case-insensitive.
    for header in ("x-rate-limit-reset", "x-ratelimit-reset"):
        value = (response.headers.get(header) or "").strip()
        if not value:
            continue
        if value.isdigit():
            return int(value) - now
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now
        except ValueError:
            continue
    retry_after = (response.headers.get("Retry-After") or "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            return parsedate_to_datetime(retry_after).timestamp() - now
        except (TypeError, ValueError):
            return None
    return None


def retry_delay(response: Response | None, attempt: int, policy: HttpPolicy,
                now: float | None = None) -> float:
    """Seconds to wait before try ``attempt + 1``: the platform's reset time if it names one,
    else exponential backoff; never more than ``policy.max_wait_seconds``."""
    delay = None
    if response is not None:
        delay = _reset_delay(response, time.time() if now is None else now)
    if delay is None:
        delay = policy.backoff_seconds * 2 ** (attempt - 1)
    return max(0.0, min(delay, policy.max_wait_seconds))


def _platform_message(response: Response) -> str:
    body = _json_body(response)
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):  # Graph API
            return f"{error.get('type', 'error')} {error.get('code', '')}: {error.get('message')}"
        if isinstance(error, str):  # Mastodon
            return error
        if body.get("detail") or body.get("title"):  # X API v2 problem
            return f"{body.get('title', '')}: {body.get('detail', '')}".strip(": ")
        if isinstance(body.get("errors"), list) and body["errors"]:
            return "; ".join(str(e.get("message", e)) for e in body["errors"][:3])
    return response.text[:200] if body is _BROKEN else str(body)[:200]


@dataclass
class RequestStats:
    """What one source's API calls cost in this process: requests sent (tries included),
    retries, and seconds spent waiting for answers (backoff sleeps not included)."""

    requests: int = 0
    retries: int = 0
    seconds: float = 0.0


# Per source name; read by benchmarks/ingest_throughput.py to tell API time from our own.
REQUEST_STATS: dict[str, RequestStats] = {}


class PolicySession(Session):
    """A requests session that applies :class:`HttpPolicy` and raises clear, token-free errors."""

    def __init__(self, source: str, policy: HttpPolicy) -> None:
        super().__init__(timeout=policy.timeout_seconds, raise_for_status=False)
        self.source = source
        self.policy = policy
        self._environment: dict[tuple, dict[str, Any]] = {}

    def merge_environment_settings(self, url: str | None, proxies: Any, stream: Any,
                                   verify: Any, cert: Any) -> dict[str, Any]:
        """requests' proxy, CA bundle and stream settings for ``url``, read from the
        environment once per host for the session's life instead of on every request (each
        read scans every environment variable twice: about a third of a millisecond per
        page, more than parsing the page)."""
        parts = urlsplit(url or "")
        key = (parts.scheme, parts.netloc, repr(proxies), stream, repr(verify), repr(cert))
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(
                url, proxies, stream, verify, cert)
        merged = self._environment[key]
        return {**merged, "proxies": dict(merged["proxies"] or {})}

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        """Send with retries; return a successful response or raise SourceHTTPError."""
        endpoint = urlsplit(request.url or "").path
        response: Response | None = None
        error: BaseException | None = None
        attempt = 0
        stats = REQUEST_STATS.setdefault(self.source, RequestStats())
        for attempt in range(1, self.policy.max_attempts + 1):
            response, error = None, None
            started = time.perf_counter()
            try:
                response = super().send(request, **kwargs)
            except RETRY_EXCEPTIONS as exc:
                error = exc
            stats.requests += 1
            stats.seconds += time.perf_counter() - started
            reason = retry_reason(response, error)
            if reason is None or attempt == self.policy.max_attempts:
                break
            stats.retries += 1
            delay = retry_delay(response, attempt, self.policy)
            logger.warning("%s: %s on GET %s; retrying in %.1f s (attempt %d of %d)",
                           self.source, reason, endpoint, delay, attempt,
                           self.policy.max_attempts)
            time.sleep(delay)
        self._raise_for(request, endpoint, response, error, attempt)
        assert response is not None
        return response

    def _raise_for(self, request: PreparedRequest, endpoint: str, response: Response | None,
                   error: BaseException | None, attempts: int) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if error is not None:
            message = f"GET {endpoint} failed{tries}: {type(error).__name__} (connection)"
            status = None
        else:
            assert response is not None
            status = response.status_code
            if status < 300 and _json_body(response) is not _BROKEN:
                return
            if status < 300:
                message = (f"GET {endpoint} returned a body that is not valid JSON{tries} "
                           "(truncated response?)")
            elif status == 401:
                message = (f"GET {endpoint} was refused with HTTP 401 (unauthorized): "
                           f"{_platform_message(response)}; check the token configured for "
                           "this account")
            else:
                message = (f"GET {endpoint} failed with HTTP {status}{tries}: "
                           f"{_platform_message(response)}")
        raise SourceHTTPError(_redact(f"source '{self.source}': {message}", request), status)


def _redact(message: str, request: PreparedRequest) -> str:
    # Belt and braces: a platform could echo the credential back in its error text.
    auth = request.headers.get("Authorization", "")
    token = auth.split(" ", 1)[-1] if auth else ""
    return message.replace(token, "***") if len(token) >= 4 else message


def api_client(source: str, base_url: str, token: str | None,
               policy: HttpPolicy | None = None) -> RESTClient:
    """A REST client for ``source`` that sends ``token`` as a bearer header (never in the URL
    or logs) and applies ``policy`` to every request."""
    return RESTClient(base_url=base_url.rstrip("/"),
                      auth=BearerTokenAuth(token) if token else None,
                      session=PolicySession(source, policy or HttpPolicy()))


def pages(client: RESTClient, path: str, paginator: BasePaginator, params: dict | None = None,
          data_selector: str | None = "data", token: str | None = None
          ) -> Iterator[tuple[list[dict], Any]]:
    """Yield ``(items, body)`` for every page; ``token`` overrides the client's for this call."""
    auth = BearerTokenAuth(token) if token else None
    # An empty response hook list: PolicySession already raised for anything not a success.
    for page in client.paginate(path, params=params, paginator=paginator,
                                data_selector=_selector(data_selector), auth=auth,
                                hooks={"response": []}):
        yield list(page), page.response.json()


@functools.cache
def _selector(path: str | None) -> JSONPath | None:
    # dlt would parse a text selector again for every page.
    return compile_path(path) if path else None


def as_parquet(*resources: DltResource,
               raw_columns: Mapping[str, Mapping[str, TDataType]]) -> tuple[DltResource, ...]:
    """The resources, each page turned into an Arrow table and loaded through parquet files:
    dlt's normaliser and the default ``insert_values`` load are the slowest steps of a large
    night (:mod:`ingestion.sources.arrow` keeps the raw tables' shape). Each resource's raw
    table is declared with its entry of ``raw_columns`` (the source's ``schema.py``), so it
    exists with those columns after a night without rows."""
    for resource in resources:
        resource.add_step(ArrowPages(resource.compute_table_schema()["columns"]))
        resource.apply_hints(file_format="parquet")
        declare_raw_columns(resource, raw_columns[resource.name])
    return resources


def cursors(name: str) -> dict[str, Any]:
    """Per-key cursors (per account, hashtag...) of the running resource, in its dlt state.

    dlt saves resource state with the load package, so a cursor moved here only counts once
    the rows read with it have landed.
    """
    return dlt.current.resource_state().setdefault(name, {})


def newest_id(current: str | None, candidate: str | None) -> str | None:
    """The larger of two numeric id strings (snowflakes), compared as numbers."""
    if candidate is None:
        return current
    if current is None:
        return str(candidate)
    return max(str(current), str(candidate), key=lambda v: (len(v), v))
