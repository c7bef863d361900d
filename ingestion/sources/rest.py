"""HTTP plumbing shared by the API sources: one retrying client, clear errors, paging, cursors.

Every API call goes through :class:`PolicySession`, which retries what a platform means as
"try again later" and turns everything else into a :class:`SourceHTTPError` naming the source
and the endpoint (never the query string, never a token):

- HTTP 429 waits until the platform's reset time: ``x-rate-limit-reset`` (X, epoch seconds),
  ``X-RateLimit-Reset`` (Mastodon, ISO time) or ``Retry-After``;
- Graph API throttling arrives as HTTP 400/403 with error code 4, 17, 32 or 613: backed off;
- 5xx, dropped connections and 2xx bodies that are not valid JSON (a truncated page) are
  retried with exponential backoff;
- every wait is capped by ``max_wait_seconds`` and the number of tries by ``max_attempts``;
  a reset time no clock can reach (a 400-digit ``x-rate-limit-reset``) is such a capped wait.

What a hostile or broken server cannot do (:class:`HttpPolicy` holds the limits, each a source
setting with the default given here):

- get the token elsewhere: a request (a paging link, a redirect) to any origin (scheme, host,
  port) but the configured ``base_url``'s is refused before it is sent, naming the foreign
  origin, never the token;
- page forever: a walk that would ask a URL (with its cursor) a second time stops with an
  error, and so does a resource past ``max_pages`` pages in one night (default 50,000);
- hold a request or the memory: every response is read within ``request_deadline_seconds``
  (default 120, the body included, on top of the 60 s per read) and up to
  ``max_response_bytes`` (default 32 MiB, decoded), else the request fails;
- crash the parser: JSON nested too deeply for the parsers is a clear error, not a
  ``RecursionError``;
- learn the token from an error message: the token is redacted as sent, URL-encoded (any
  case, partly or doubly encoded, JSON-escaped) and base64-encoded.

Cursors (``since_id``, ``since``, ``min_id``) live in the resource's dlt state, which dlt
commits together with the loaded data: a night that fails before its data lands leaves them
where they were.
"""

from __future__ import annotations

import base64
import functools
import json as stdjson
import logging
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import dlt
from dlt.common import json
from dlt.common.jsonpath import JSONPath, compile_path
from dlt.common.schema.typing import TDataType
from dlt.extract.resource import DltResource
from dlt.sources.helpers.requests.session import Session
from dlt.sources.helpers.rest_client import RESTClient
from dlt.sources.helpers.rest_client.auth import BearerTokenAuth
from dlt.sources.helpers.rest_client.paginators import BasePaginator
from dlt.sources.helpers.rest_client.utils import join_url
from requests import PreparedRequest, Request, Response
from requests.exceptions import ChunkedEncodingError, ConnectionError, Timeout
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError

from ingestion.sources.arrow import ArrowPages, declare_raw_columns
from ingestion.sources.validation import MAX_ID

logger = logging.getLogger(__name__)

# Graph API throttling: 4 app, 17 user, 32 page, 613 custom rate limit (sent as HTTP 400/403).
GRAPH_RATE_LIMIT_CODES = frozenset({4, 17, 32, 613})
RETRY_EXCEPTIONS = (ConnectionError, Timeout, ChunkedEncodingError)
_BROKEN = object()
_TOO_DEEP = object()  # valid JSON, maybe, but nested deeper than the parsers go
_DEFAULT_PORTS = {"http": 80, "https": 443}
_READ_CHUNK = 64 * 1024

# Defaults of the limits below, also the defaults of the sources' settings of the same name.
DEFAULT_MAX_PAGES = 50_000
DEFAULT_REQUEST_DEADLINE_SECONDS = 120.0
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024


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


# Ids that go into URL paths: digits, within 64 bits (X, Graph and Mastodon account ids).
_PATH_ID = re.compile(r"[0-9]{1,19}")
# A hashtag: letters, digits and underscores (Unicode letters included), no '#'.
_HASHTAG = re.compile(r"\w{1,100}")


def is_path_id(value: object) -> bool:
    """Whether a configured id may go into a URL path: digits only, within 64 bits."""
    text = str(value)
    return _PATH_ID.fullmatch(text) is not None and int(text) <= MAX_ID


def is_hashtag(value: object) -> bool:
    """Whether a configured hashtag is one: letters, digits and underscores, no ``#``."""
    return _HASHTAG.fullmatch(str(value)) is not None


def checked(values: list | None, source: str, setting: str,
            valid: Callable[[object], bool] = is_path_id) -> list[str] | None:
    """Configured values that go into URL paths (ids, hashtags) as text, each one ``valid``,
    or a :class:`SourceConfigError` naming the setting (never its value's neighbours: a
    value is shown cut to 40 characters)."""
    if values is None:
        return None
    if not isinstance(values, list):
        values = [values]
    bad = [str(v) for v in values if not valid(v)]
    if bad:
        raise SourceConfigError(
            f"source '{source}': setting '{setting}' holds {len(bad)} value(s) that may not "
            f"go into a URL (e.g. {bad[0][:40]!r}); set [sources.{source}] {setting} in "
            f".dlt/config.toml or SOURCES__{source.upper()}__{setting.upper()}")
    return [str(v) for v in values]


def segment(value: object) -> str:
    """``value`` as one URL path segment: every character but letters, digits and ``_.-~``
    percent-encoded (a ``/`` or ``?`` in it cannot reach another endpoint or add parameters)."""
    return quote(str(value), safe="")


@dataclass(frozen=True)
class HttpPolicy:
    """How hard a source tries and how far a server may lead it, for one source run (night).

    Args:
        max_attempts: tries per request.
        max_wait_seconds: longest single wait between tries.
        backoff_seconds: first backoff step (doubles each try).
        timeout_seconds: connect timeout and longest wait for any one read.
        max_pages: pages one resource may read in the run, all its walks together
            (:data:`DEFAULT_MAX_PAGES`); one more is an error.
        request_deadline_seconds: longest a response may take, body included
            (:data:`DEFAULT_REQUEST_DEADLINE_SECONDS`).
        max_response_bytes: largest response body, decoded (:data:`DEFAULT_MAX_RESPONSE_BYTES`).
        pages_read: pages read so far per resource (the run's count for ``max_pages``).
    """

    max_attempts: int = 5
    max_wait_seconds: float = 900.0
    backoff_seconds: float = 2.0
    timeout_seconds: float = 60.0
    max_pages: int = DEFAULT_MAX_PAGES
    request_deadline_seconds: float = DEFAULT_REQUEST_DEADLINE_SECONDS
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    pages_read: Counter = field(default_factory=Counter, compare=False, repr=False)


def _json_body(response: Response) -> Any:
    """The parsed body, cached on the response (parsed once, read by retry check and pager)."""
    cached = getattr(response, "_rapport_json", None)
    if cached is None:
        try:
            cached = json.loadb(response.content)
        except (ValueError, TypeError):
            cached = _lenient_json(response.content)
        response._rapport_json = cached  # type: ignore[attr-defined]
        if cached is not _BROKEN and cached is not _TOO_DEEP:
            response.json = lambda **_: cached  # type: ignore[method-assign]
    return cached


def _lenient_json(content: bytes) -> Any:
    # orjson refuses a whole page for one lone surrogate escape (\ud800) in one item; the
    # standard parser reads it, and item screening quarantines just that item. orjson also
    # refuses nesting beyond 1024 levels, where the standard parser runs out of stack.
    try:
        return stdjson.loads(content.decode("utf-8"))
    except RecursionError:
        return _TOO_DEEP
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


def _origin(url: str | None) -> tuple[str, str, int | None]:
    """(scheme, host, port) of a URL, the port filled in for http and https."""
    parts = urlsplit(url or "")
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:  # not a port number: an origin no configured API has
        port = -1
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


def _origin_text(origin: tuple[str, str, int | None]) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}" if port is not None else f"{scheme}://{host}"


# Epoch seconds longer than this are past any date Python can hold (year 9999).
_EPOCH_DIGITS = 12


def _digits(value: str) -> bool:
    return value.isascii() and value.isdigit()


def _reset_delay(response: Response, now: float) -> float | None:
    # X sends epoch seconds, Mastodon an ISO time; requests' headers are case-insensitive.
    # A number too large for any clock is a reset in the far future: the longest wait.
    for header in ("x-rate-limit-reset", "x-ratelimit-reset"):
        value = (response.headers.get(header) or "").strip()
        if not value:
            continue
        if _digits(value):
            return math.inf if len(value) > _EPOCH_DIGITS else int(value) - now
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp() - now
        except (ValueError, OverflowError):
            continue
    retry_after = (response.headers.get("Retry-After") or "").strip()
    if _digits(retry_after):
        return math.inf if len(retry_after) > _EPOCH_DIGITS else float(retry_after)
    if retry_after:
        try:
            return parsedate_to_datetime(retry_after).timestamp() - now
        except (TypeError, ValueError, IndexError, OverflowError):
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
            return "; ".join(str(e.get("message", e) if isinstance(e, dict) else e)
                             for e in body["errors"][:3])
    if body is _TOO_DEEP:
        return "a JSON body nested too deeply to read"
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
    """A requests session that applies :class:`HttpPolicy`, sends requests only to the API's
    origin and raises clear, token-free errors."""

    def __init__(self, source: str, policy: HttpPolicy, base_url: str | None = None) -> None:
        super().__init__(timeout=policy.timeout_seconds, raise_for_status=False)
        self.source = source
        self.policy = policy
        self.origin = _origin(base_url) if base_url else None
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

    def error(self, message: str, request: PreparedRequest | Request | None = None,
              status: int | None = None) -> SourceHTTPError:
        """A :class:`SourceHTTPError` of this source, the request's token redacted."""
        return SourceHTTPError(_redact(f"source '{self.source}': {message}", request), status)

    def check_origin(self, url: str | None, what: str) -> None:
        """Refuse ``url`` unless it is on the configured API's origin (scheme, host, port):
        the token goes nowhere else. ``what`` says where the URL came from."""
        if self.origin is None:
            return
        origin = _origin(url)
        if origin != self.origin:
            raise self.error(f"{what} leads to {_origin_text(origin)}, not to the configured "
                             f"API ({_origin_text(self.origin)}); stopped without sending "
                             "the token there")

    def send(self, request: PreparedRequest, **kwargs: Any) -> Response:  # type: ignore[override]
        """Send with retries; return a successful response or raise SourceHTTPError."""
        endpoint = urlsplit(request.url or "").path
        # requests follows redirects by calling send again: they are checked here too
        self.check_origin(request.url, f"GET {endpoint}")
        kwargs["stream"] = True  # the body is read here, within the deadline and size cap
        response: Response | None = None
        error: BaseException | None = None
        attempt = 0
        stats = REQUEST_STATS.setdefault(self.source, RequestStats())
        for attempt in range(1, self.policy.max_attempts + 1):
            response, error = None, None
            started = time.perf_counter()
            try:
                response = super().send(request, **kwargs)
                self._read_body(request, response, endpoint, started)
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

    def _read_body(self, request: PreparedRequest, response: Response, endpoint: str,
                   started: float) -> None:
        """Read the body of a streamed response within the request's deadline and the size
        cap: a read timeout is retried like any other; a body over the cap or past the
        deadline fails the request (a server dripping bytes, a page of gigabytes)."""
        if response.raw is None or response._content_consumed:  # noqa: SLF001 (redirect)
            return
        policy = self.policy
        deadline = started + policy.request_deadline_seconds
        declared = (response.headers.get("Content-Length") or "").strip()
        too_big = (f"GET {endpoint} answered more than {policy.max_response_bytes} bytes "
                   "(max_response_bytes)")
        if _digits(declared) and (len(declared) > 18
                                  or int(declared) > policy.max_response_bytes):
            response.close()
            raise self.error(f"{too_big}: Content-Length {declared[:20]}", request)

        def overdue() -> SourceHTTPError:
            return self.error(f"GET {endpoint} took longer than "
                              f"{policy.request_deadline_seconds:g} s (request_deadline_seconds)",
                              request)

        connection = getattr(response.raw, "connection", None)
        sock = getattr(connection, "sock", None)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = deadline - time.perf_counter()
                if remaining <= 0:
                    response.close()
                    raise overdue()
                if sock is not None:  # no single read may outlast the deadline
                    sock.settimeout(min(remaining, policy.timeout_seconds))
                chunk = response.raw.read1(_READ_CHUNK, decode_content=True)
                if not chunk:
                    break
                size += len(chunk)
                if size > policy.max_response_bytes:
                    response.close()
                    raise self.error(too_big, request)
                chunks.append(chunk)
        except ReadTimeoutError as exc:
            if time.perf_counter() >= deadline:
                response.close()
                raise overdue() from None
            raise Timeout(str(exc)) from None
        except (Urllib3Error, OSError) as exc:
            raise ChunkedEncodingError(type(exc).__name__) from None
        finally:
            if sock is not None and sock.fileno() != -1:
                sock.settimeout(policy.timeout_seconds)
        response._content = b"".join(chunks)  # noqa: SLF001 (what requests' .content sets)
        response._content_consumed = True  # noqa: SLF001

    def _raise_for(self, request: PreparedRequest, endpoint: str, response: Response | None,
                   error: BaseException | None, attempts: int) -> None:
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        if error is not None:
            message = f"GET {endpoint} failed{tries}: {type(error).__name__} (connection)"
            status = None
        else:
            assert response is not None
            status = response.status_code
            body = _json_body(response) if status < 300 else None
            if status < 300 and body is not _BROKEN and body is not _TOO_DEEP:
                return
            if body is _BROKEN:
                message = (f"GET {endpoint} returned a body that is not valid JSON{tries} "
                           "(truncated response?)")
            elif body is _TOO_DEEP:
                message = f"GET {endpoint} returned JSON nested too deeply to read"
            elif status == 401:
                message = (f"GET {endpoint} was refused with HTTP 401 (unauthorized): "
                           f"{_platform_message(response)}; check the token configured for "
                           "this account")
            else:
                message = (f"GET {endpoint} failed with HTTP {status}{tries}: "
                           f"{_platform_message(response)}")
        raise self.error(message, request, status)


def _redact(message: str, request: PreparedRequest | Request | None) -> str:
    # Belt and braces: a platform could echo the credential back in its error text.
    auth = request.headers.get("Authorization", "") if request is not None else ""
    token = auth.split(" ", 1)[-1] if auth else ""
    return redact(message, token)


def redact(message: str, secret: str) -> str:
    """``message`` with ``secret`` replaced by ``***`` in every form a server may echo it in:
    as sent, URL-encoded (either hex case, ``+`` for spaces, partly or doubly encoded),
    JSON-escaped (``\\/``), and base64-encoded (standard or URL-safe, padded or not)."""
    if len(secret) < 4:
        return message
    message = _secret_pattern(secret).sub("***", message)
    for form in _base64_forms(secret):
        message = message.replace(form, "***")
    return message


@functools.lru_cache(maxsize=64)
def _secret_pattern(secret: str) -> re.Pattern[str]:
    def one(char: str) -> str:
        # each character as sent or percent-encoded (either case, maybe encoded twice)
        forms = [re.escape(char), "".join(f"%(?:25)?(?i:{byte:02x})"
                                          for byte in char.encode("utf-8"))]
        if char == "/":
            forms.append(re.escape("\\/"))  # JSON may escape a slash
        if char == " ":
            forms.append(re.escape("+"))
        return f"(?:{'|'.join(forms)})"

    return re.compile("".join(one(char) for char in secret))


@functools.lru_cache(maxsize=64)
def _base64_forms(secret: str) -> tuple[str, ...]:
    encoded = secret.encode("utf-8")
    forms = {base64.b64encode(encoded).decode(), base64.urlsafe_b64encode(encoded).decode()}
    forms |= {form.rstrip("=") for form in forms}
    return tuple(sorted(forms, key=len, reverse=True))


def api_client(source: str, base_url: str, token: str | None,
               policy: HttpPolicy | None = None) -> RESTClient:
    """A REST client for ``source`` that sends ``token`` as a bearer header (never in the URL
    or logs), only to ``base_url``'s origin, and applies ``policy`` to every request."""
    base_url = base_url.rstrip("/")
    return RESTClient(base_url=base_url,
                      auth=BearerTokenAuth(token) if token else None,
                      session=PolicySession(source, policy or HttpPolicy(), base_url))


def pages(client: RESTClient, path: str, paginator: BasePaginator, params: dict | None = None,
          data_selector: str | None = "data", token: str | None = None
          ) -> Iterator[tuple[list[dict], Any]]:
    """Yield ``(items, body)`` for every page; ``token`` overrides the client's for this call.

    The walk stops with a :class:`SourceHTTPError` (never in silence) when a page links to
    another origin, when it would ask a URL with its cursor a second time (a server paging in
    a circle, or repeating X's ``next_token``), and when the running resource has read
    ``max_pages`` pages tonight; an answer the paginator cannot follow is one too."""
    session = client.session
    assert isinstance(session, PolicySession)
    auth = BearerTokenAuth(token) if token else None
    url = join_url(client.base_url, path)
    endpoint = urlsplit(url).path
    resource = _resource_name(endpoint)
    seen = {_page_key(url, params)}
    cursors_used = set(_cursors(url, params))
    _count_page(session, resource, endpoint)
    # An empty response hook list: PolicySession already raised for anything not a success.
    walk = client.paginate(path, params=params, paginator=paginator,
                           data_selector=_selector(data_selector), auth=auth,
                           hooks={"response": []})
    while True:
        try:
            page = next(walk)
        except StopIteration:
            return
        except SourceHTTPError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:
            # a paging field of the wrong type, a link that is no URL...
            message = (f"GET {endpoint} answered a page that cannot be followed "
                       f"({type(exc).__name__}: {str(exc)[:120]})")
            raise session.error(redact(message, token or getattr(client.auth, "token", "")
                                       or "")) from None
        yield list(page), page.response.json()
        if not page.paginator.has_next_page:
            return
        request = page.request
        session.check_origin(request.url, f"the next-page link of GET {endpoint}")
        key = _page_key(request.url, request.params)
        used = set(_cursors(request.url, request.params))
        if key in seen or used & cursors_used:
            again = "".join(f" ({name}={value[:40]})" for name, value in used & cursors_used)
            raise session.error(f"paging of GET {endpoint} came back to a page it had read"
                                f"{again} after {len(seen)} pages: the server pages in a "
                                "circle")
        seen.add(key)
        cursors_used |= used
        _count_page(session, resource, endpoint)


def _resource_name(fallback: str) -> str:
    try:
        return dlt.current.resource_name() or fallback
    except Exception:  # noqa: BLE001 (outside a dlt extract, e.g. a helper's own test)
        return fallback


def _count_page(session: PolicySession, resource: str, endpoint: str) -> None:
    """Count a page the resource is about to ask for; refuse it past ``max_pages``."""
    read = session.policy.pages_read
    if read[resource] >= session.policy.max_pages:
        raise session.error(f"resource '{resource}' read {read[resource]} pages tonight, the "
                            f"limit (max_pages); stopped before the next page of GET "
                            f"{endpoint}")
    read[resource] += 1


# Paging parameters whose value must change from page to page (X, Graph, Mastodon).
_CURSOR_PARAMS = frozenset({"pagination_token", "next_token", "after", "__paging_token",
                            "max_id", "min_id"})


def _cursors(url: str | None, params: Mapping | None) -> list[tuple[str, str]]:
    """The cursor parameters of a page request, from its URL and its parameters."""
    query = parse_qsl(urlsplit(url or "").query, keep_blank_values=True)
    return [(name, str(value)) for name, value in [*query, *(params or {}).items()]
            if name in _CURSOR_PARAMS]


def _page_key(url: str | None, params: Mapping | None) -> str:
    query = urlencode(sorted((str(k), str(v)) for k, v in (params or {}).items()))
    return f"{url}?{query}"


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
