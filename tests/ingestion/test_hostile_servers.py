"""The API sources against servers that lie, loop, drip, flood and echo: every test runs the
real pipeline against a loopback server (``tests/ingestion/hostile.py``) answering what no
platform should, and checks that the night stops with a clear error naming the source and the
endpoint (never the token), or goes on without letting the answer do harm.

Issue 14: tokens following foreign paging links, endless paging, requests without a deadline
or size cap, absurd ids as cursors, odd headers and bodies, config values in URL paths, and
tokens echoed back URL-encoded or base64-encoded.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ingestion import pipelines
from ingestion.demo.replay import ReplayServer
from ingestion.sources.rest import HttpPolicy, PolicySession, SourceConfigError, SourceHTTPError
from tests.conftest import query
from tests.ingestion.hostile import Answer, Asked, HostileServer

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
# Tokens with characters that change when URL- or base64-encoded.
TOKENS = {"x": "X-APP-TOK-abc/def+ghi==", "meta": "EAAB-PAGE/tok+en==",
          "mastodon": "masto-TOK/en+abc=="}
RECENT = "2026-09-01T10:00:00.000Z"


def configure(mp: pytest.MonkeyPatch, platform: str, url: str, **extra: str) -> None:
    """Point one API source at ``url`` with fast retries; ``extra`` adds or overrides
    settings (``MAX_PAGES="5"``)."""
    token = TOKENS[platform]
    settings = {
        "x": {"BASE_URL": f"{url}/x", "ACCOUNT_IDS": '["111"]', "BEARER_TOKEN": token},
        "meta": {"BASE_URL": f"{url}/meta", "PAGE_IDS": '["222"]',
                 "ACCESS_TOKENS": json.dumps({"222": token})},
        "mastodon": {"BASE_URL": f"{url}/mastodon", "ACCOUNT_IDS": '["444"]',
                     "ACCESS_TOKENS": json.dumps({"444": token})},
    }[platform]
    settings.update({"MAX_ATTEMPTS": "2", "MAX_WAIT_SECONDS": "0.2", "BACKOFF_SECONDS": "0.01"})
    settings.update(extra)
    for key, value in settings.items():
        mp.setenv(f"SOURCES__{platform.upper()}__{key}", value)


def empty(asked: Asked) -> Answer:
    """What each platform answers when it has nothing (and a Page object for Graph)."""
    platform = asked.path.strip("/").split("/")[0]
    if platform == "x":
        return Answer(body={"meta": {"result_count": 0}})
    if platform == "meta":
        if asked.path.count("/") == 2:  # /meta/<id>: an object
            return Answer(body={"id": asked.path.rsplit("/", 1)[-1], "name": "Brewly"})
        return Answer(body={"data": []})
    return Answer(body=[])


def routed(routes: dict[str, Callable[[Asked], Answer]]) -> Callable[[Asked], Answer]:
    """An answer function: the first route whose path fragment the request has, else empty."""
    def answer(asked: Asked) -> Answer:
        for fragment, route in routes.items():
            if fragment in asked.path:
                return route(asked)
        return empty(asked)

    return answer


def tweet(tweet_id: str, text: str = "@brewly hello") -> dict:
    return {"id": tweet_id, "text": text, "author_id": "501", "created_at": RECENT,
            "conversation_id": tweet_id, "lang": "en"}


def notification(note_id: str) -> dict:
    account = {"id": "801", "acct": "fay@other.example", "username": "fay",
               "followers_count": 9}
    return {"id": note_id, "type": "follow", "created_at": RECENT, "account": account}


def error_chain(error: BaseException | None) -> list[BaseException]:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def fails_with(source: str) -> SourceHTTPError:
    """Run ``source``'s pipeline, which must fail; its SourceHTTPError."""
    with pytest.raises(Exception) as failure:
        pipelines.run(source)
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors, f"no SourceHTTPError in {failure.value!r}"
    return errors[0]


@pytest.fixture
def env(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    yield monkeypatch


# --- 1. tokens go only to the configured origin --------------------------------------------

def _foreign_link(platform: str, link: str) -> Callable[[Asked], Answer]:
    if platform == "mastodon":
        return routed({"/notifications": lambda a: Answer(
            body=[notification("9001")], headers={"Link": f'<{link}>; rel="next"'})})
    return routed({"/222/feed": lambda a: Answer(body={
        "data": [{"id": "222_1", "message": "hi", "created_time": "2026-09-01T08:00:00+0000"}],
        "paging": {"next": link}}) if "after" not in a.query else Answer(body={"data": []})})


@pytest.mark.parametrize("platform", ["mastodon", "meta"])
@pytest.mark.parametrize("where", ["another port", "another host", "another scheme"])
def test_a_paging_link_to_another_origin_stops_the_source_without_sending_the_token(
        env: pytest.MonkeyPatch, platform: str, where: str) -> None:
    with HostileServer(empty) as foreign, HostileServer(lambda a: Answer()) as api:
        link = {"another port": f"{foreign.url}/steal?after=2&max_id=1",
                "another host": f"http://localhost:{api.port}/{platform}/steal?after=2&max_id=1",
                "another scheme": f"https://127.0.0.1:{api.port}/{platform}/x?after=2"}[where]
        api.answer = _foreign_link(platform, link)
        configure(env, platform, api.url)
        error = fails_with(platform)
        stolen = [r for r in foreign.requests + api.requests if "steal" in r.target
                  or r.target.startswith(f"/{platform}/x")]
    assert not stolen  # nothing was asked there, so no token either
    message = str(error)
    assert f"source '{platform}'" in message
    foreign_origin = {"another port": f"http://127.0.0.1:{foreign.port}",
                      "another host": f"http://localhost:{api.port}",
                      "another scheme": f"https://127.0.0.1:{api.port}"}[where]
    assert foreign_origin in message and "not to the configured API" in message
    assert TOKENS[platform] not in message


def test_a_redirect_to_another_origin_is_refused_too(env: pytest.MonkeyPatch) -> None:
    with HostileServer(empty) as foreign:
        moved = Answer(status=302, body={}, headers={"Location": f"{foreign.url}/x/elsewhere"})
        with HostileServer(routed({"/mentions": lambda a: moved})) as api:
            configure(env, "x", api.url)
            error = fails_with("x")
        assert not foreign.requests
    assert f"GET /x/elsewhere leads to http://127.0.0.1:{foreign.port}" in str(error)


def test_the_origin_check_tells_https_from_http_and_default_ports() -> None:
    session = PolicySession("x", HttpPolicy(), "https://api.x.com/2")
    session.check_origin("https://api.x.com:443/2/users/1/mentions?x=1", "GET")
    session.check_origin("HTTPS://API.X.COM/2/tweets", "GET")
    for foreign in ("http://api.x.com/2/users", "https://api.x.com:8443/2", "https://x.com/2",
                    "https://api.x.com.evil.example/2", "https://user@evil.example/2"):
        with pytest.raises(SourceHTTPError, match="not to the configured API"):
            session.check_origin(foreign, "the next-page link of GET /2/users/1/mentions")


# --- 2. paging ends ------------------------------------------------------------------------

def test_a_mastodon_link_back_to_the_same_page_stops_with_an_error(
        env: pytest.MonkeyPatch) -> None:
    def same(asked: Asked) -> Answer:
        link = f"{server.url}/mastodon/api/v1/notifications?max_id=5"
        return Answer(body=[notification("9001")], headers={"Link": f'<{link}>; rel="next"'})

    with HostileServer(routed({"/notifications": same})) as server:
        configure(env, "mastodon", server.url)
        error = fails_with("mastodon")
        asked = server.paths("/notifications")
    assert "came back to a page it had read" in str(error)
    assert "GET /mastodon/api/v1/notifications" in str(error)
    assert len(asked) == 2  # the first page, its link; the link's link is the same


def test_a_mastodon_link_repeating_its_cursor_under_new_parameters_stops_with_an_error(
        env: pytest.MonkeyPatch) -> None:
    def same_cursor(asked: Asked) -> Answer:
        n = int(asked.query.get("n", "0")) + 1
        link = f"{server.url}/mastodon/api/v1/notifications?max_id=5&n={n}"
        return Answer(body=[notification("9001")], headers={"Link": f'<{link}>; rel="next"'})

    with HostileServer(routed({"/notifications": same_cursor})) as server:
        configure(env, "mastodon", server.url)
        error = fails_with("mastodon")
        asked = server.paths("/notifications")
    assert "came back to a page it had read (max_id=5)" in str(error)
    assert len(asked) == 2


def test_a_two_page_graph_cycle_stops_with_an_error(env: pytest.MonkeyPatch) -> None:
    def cycle(asked: Asked) -> Answer:
        after = "b" if asked.query.get("after") == "a" else "a"
        return Answer(body={"data": [], "paging": {
            "next": f"{server.url}/meta/222/feed?limit=100&after={after}"}})

    with HostileServer(routed({"/222/feed": cycle})) as server:
        configure(env, "meta", server.url)
        error = fails_with("meta")
        asked = server.paths("/222/feed")
    assert "source 'meta'" in str(error) and "came back to a page" in str(error)
    assert len(asked) == 3  # first, a, b; then a again is refused


def test_x_repeating_the_same_next_token_stops_with_an_error(env: pytest.MonkeyPatch) -> None:
    def repeat(asked: Asked) -> Answer:
        return Answer(body={"data": [tweet("1790000000000000001")],
                            "meta": {"result_count": 1, "next_token": "again"}})

    with HostileServer(routed({"/mentions": repeat})) as server:
        configure(env, "x", server.url)
        error = fails_with("x")
        asked = server.paths("/mentions")
    assert "came back to a page" in str(error) and "/2/users/111/mentions" in str(error)
    assert len(asked) == 2


def test_a_server_with_ever_new_links_stops_at_the_page_cap_of_the_resource(
        env: pytest.MonkeyPatch) -> None:
    def endless(asked: Asked) -> Answer:
        n = int(asked.query.get("pagination_token", "0")) + 1
        return Answer(body={"data": [tweet(str(1790000000000000000 + n))],
                            "meta": {"result_count": 1, "next_token": str(n)}})

    with HostileServer(routed({"/mentions": endless})) as server:
        configure(env, "x", server.url, MAX_PAGES="7")
        error = fails_with("x")
        asked = server.paths("/mentions")
    assert len(asked) == 7
    assert "resource 'mentions' read 7 pages tonight" in str(error)
    assert "max_pages" in str(error)


def env_warehouse() -> Path:
    return Path(os.environ["RAPPORT_WAREHOUSE"])


def test_the_page_cap_counts_every_walk_of_a_resource_in_the_night(
        env: pytest.MonkeyPatch) -> None:
    # two accounts, three pages each: a cap of 5 pages for the resource stops the second walk
    def three(asked: Asked) -> Answer:
        n = int(asked.query.get("pagination_token", "0")) + 1
        meta = {"result_count": 0, **({"next_token": str(n)} if n < 3 else {})}
        return Answer(body={"meta": meta})

    with HostileServer(routed({"/mentions": three})) as server:
        configure(env, "x", server.url, MAX_PAGES="5", ACCOUNT_IDS='["111", "112"]')
        error = fails_with("x")
        asked = server.paths("/mentions")
    assert len(asked) == 5 and "resource 'mentions' read 5 pages" in str(error)


# --- 3. deadline and size cap per request ---------------------------------------------------

def test_a_body_dripping_byte_by_byte_fails_at_the_request_deadline(
        env: pytest.MonkeyPatch) -> None:
    page = json.dumps({"meta": {"result_count": 0}, "padding": "x" * 100})
    with HostileServer(routed({"/mentions": lambda a: Answer(body=page, drip=0.2)})) as server:
        configure(env, "x", server.url, REQUEST_DEADLINE_SECONDS="1.5")
        started = time.monotonic()
        error = fails_with("x")
        took = time.monotonic() - started
    assert "took longer than 1.5 s (request_deadline_seconds)" in str(error)
    assert "source 'x'" in str(error) and "/2/users/111/mentions" in str(error)
    assert took < 10  # the whole body would take 25 s, twice


def test_a_body_larger_than_the_cap_fails_without_reading_it_all(
        env: pytest.MonkeyPatch) -> None:
    sent = []

    def flood() -> Iterator[bytes]:
        yield b'{"data": ['
        for _ in range(100_000):  # 6.5 GB if read to the end
            sent.append(1)
            yield b'{"id": "1", "text": "' + b"x" * 65_000 + b'"},'

    with HostileServer(routed({"/mentions": lambda a: Answer(chunks=flood())})) as server:
        configure(env, "x", server.url, MAX_RESPONSE_BYTES="1000000")
        error = fails_with("x")
    assert "answered more than 1000000 bytes (max_response_bytes)" in str(error)
    assert len(sent) < 200  # stopped reading (socket buffers hold a few more)


def test_a_declared_content_length_over_the_cap_is_refused_before_reading(
        env: pytest.MonkeyPatch) -> None:
    big = Answer(body=b"{}", headers={"Content-Length": "9" * 5000})
    with HostileServer(routed({"/notifications": lambda a: big})) as server:
        configure(env, "mastodon", server.url)
        error = fails_with("mastodon")
    assert "max_response_bytes" in str(error) and "/api/v1/notifications" in str(error)


# --- 4. absurd ids never move a cursor ------------------------------------------------------

@pytest.fixture
def pages_copy(env: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    root = tmp_path / "pages"
    shutil.copytree(FIXTURES / "api", root)
    return root


def _add_item(page_file: Path, item: dict, x: bool) -> None:
    envelopes = json.loads(page_file.read_text())
    page = envelopes[-1] if isinstance(envelopes, list) else envelopes
    (page["body"]["data"] if x else page["body"]).insert(0, item)
    page_file.write_text(json.dumps(envelopes))


@pytest.mark.parametrize(("absurd", "reason"), [
    ("99999999999999999999999999999", "id is out of range for an id on X"),
    ("9223372036854775807", "id is a snowflake id from the future"),
    ("1790000000000000004; drop", "id is not a valid id on X"),
])
def test_an_x_tweet_with_an_absurd_id_is_quarantined_and_never_becomes_since_id(
        env: pytest.MonkeyPatch, pages_copy: Path, absurd: str, reason: str) -> None:
    _add_item(pages_copy / "x" / "2" / "users" / "111" / "mentions" / "first.json",
              tweet(absurd), x=True)
    with ReplayServer(pages_copy) as server:
        configure(env, "x", server.url)
        pipelines.run("x")
        quarantined = query(env_warehouse(), "select item_id, reason from "
                                             "raw_x.mentions_quarantine")
        assert len(quarantined) == 1 and quarantined[0][0] == absurd
        assert quarantined[0][1].startswith(f"{reason}: {absurd!r}")
        server.requests.clear()
        pipelines.run("x")
        asked = [r for r in server.requests if "/111/mentions?" in r]
    assert asked and all("since_id=1790000000000000003" in r for r in asked)


def test_a_mastodon_notification_with_an_absurd_id_is_quarantined_and_never_becomes_min_id(
        env: pytest.MonkeyPatch, pages_copy: Path) -> None:
    notes = pages_copy / "mastodon" / "_as" / "444" / "api" / "v1" / "notifications"
    _add_item(notes / "first.json", notification("99999999999999999999"), x=False)
    with ReplayServer(pages_copy) as server:
        configure(env, "mastodon", server.url, ACCESS_TOKENS='{"444": "demo-444"}')
        pipelines.run("mastodon")
        assert query(env_warehouse(), "select item_id, reason from "
                                      "raw_mastodon.notifications_quarantine") == [
            ("99999999999999999999",
             "id is out of range for an id on Mastodon: '99999999999999999999'")]
        server.requests.clear()
        pipelines.run("mastodon")
        asked = [r for r in server.requests if "/api/v1/notifications?" in r]
    # the night asks from the last valid id (the server's rel="prev" links then go on)
    assert asked and "min_id=9003" in asked[0]


# --- 5. odd headers and bodies --------------------------------------------------------------

@pytest.mark.parametrize("header", [
    {"x-rate-limit-reset": "9" * 400}, {"x-rate-limit-reset": "9" * 5000},
    {"Retry-After": "9" * 400}, {"Retry-After": "Mon, 99 Foo 99999 99:99:99 GMT"},
    {"x-rate-limit-reset": "３０００"},  # full-width digits: str.isdigit() says yes
])
def test_an_absurd_rate_limit_reset_is_a_capped_wait_and_the_night_loads(
        env: pytest.MonkeyPatch, header: dict[str, str]) -> None:
    tries: list[str] = []

    def limited(asked: Asked) -> Answer:
        tries.append(asked.target)
        if len(tries) == 1:
            return Answer(status=429, body={"title": "Too Many Requests"}, headers=header)
        return Answer(body={"data": [tweet("1790000000000000001")],
                            "meta": {"result_count": 1}})

    with HostileServer(routed({"/mentions": limited})) as server:
        configure(env, "x", server.url)
        started = time.monotonic()
        pipelines.run("x")
        assert time.monotonic() - started < 30
        assert len(server.paths("/mentions")) == 2
    assert query(env_warehouse(), "select id from raw_x.mentions") == [("1790000000000000001",)]


def test_json_nested_200k_deep_fails_clearly_naming_source_and_endpoint(
        env: pytest.MonkeyPatch) -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    with HostileServer(routed({"/notifications": lambda a: Answer(body=deep)})) as server:
        configure(env, "mastodon", server.url)
        error = fails_with("mastodon")
    assert str(error) == ("source 'mastodon': GET /mastodon/api/v1/notifications returned "
                          "JSON nested too deeply to read")


def test_an_item_nested_too_deeply_is_quarantined_and_the_rest_of_the_page_loads(
        env: pytest.MonkeyPatch) -> None:
    def nested(depth: int) -> str:
        return "[" * depth + "]" * depth

    page = ('{"meta": {"result_count": 3}, "data": ['
            f'{json.dumps(tweet("1790000000000000001"))}, '
            f'{json.dumps(tweet("1790000000000000002"))[:-1]}, "extra": {nested(200)}}}, '
            f'{json.dumps(tweet("1790000000000000003"))[:-1]}, "extra": {nested(1000)}}}]}}')
    with HostileServer(routed({"/mentions": lambda a: Answer(body=page)})) as server:
        configure(env, "x", server.url)
        pipelines.run("x")
    assert query(env_warehouse(), "select id from raw_x.mentions order by id") == [
        ("1790000000000000001",), ("1790000000000000002",)]
    assert query(env_warehouse(), "select item_id, reason from raw_x.mentions_quarantine") == [
        ("1790000000000000003", "extra is nested deeper than 250 levels")]


@pytest.mark.parametrize(("platform", "route", "answer", "expected"), [
    # a paging link that is no text: dlt cannot follow it
    ("meta", "/222/feed", Answer(body={"data": [], "paging": {"next": 12}}),
     "GET /meta/222/feed answered a page that cannot be followed"),
    # an X error list of plain strings instead of objects
    ("x", "/mentions", Answer(status=400, body={"errors": ["bad", "request"]}),
     "GET /x/2/users/111/mentions failed with HTTP 400: bad; request"),
])
def test_odd_bodies_end_in_a_clear_error_naming_source_and_endpoint(
        env: pytest.MonkeyPatch, platform: str, route: str, answer: Answer,
        expected: str) -> None:
    with HostileServer(routed({route: lambda a: answer})) as server:
        configure(env, platform, server.url)
        error = fails_with(platform)
    assert f"source '{platform}'" in str(error) and expected in str(error)


# --- 7. config values that reach URLs -------------------------------------------------------

@pytest.mark.parametrize(("platform", "setting", "value"), [
    ("mastodon", "HASHTAGS", '["../../accounts/999/statuses"]'),
    ("mastodon", "HASHTAGS", '["brew?min_id=1"]'),
    ("mastodon", "ACCOUNT_IDS", '["444/../999"]'),
    ("x", "ACCOUNT_IDS", '["../tweets/search/recent"]'),
    ("x", "ACCOUNT_IDS", '["99999999999999999999999"]'),
    ("meta", "PAGE_IDS", '["222/../333"]'),
    ("meta", "INSTAGRAM_ACCOUNT_IDS", '["333?fields=access_token"]'),
])
def test_config_values_that_would_change_the_url_are_refused_before_any_request(
        env: pytest.MonkeyPatch, platform: str, setting: str, value: str) -> None:
    with HostileServer(empty) as server:
        configure(env, platform, server.url, **{setting: value})
        if platform == "mastodon" and setting == "ACCOUNT_IDS":
            env.setenv("SOURCES__MASTODON__ACCESS_TOKENS",
                       json.dumps({json.loads(value)[0]: TOKENS["mastodon"]}))
        with pytest.raises(Exception) as failure:
            pipelines.run(platform)
        asked = list(server.requests)
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceConfigError)]
    assert errors and f"setting '{setting.lower()}'" in str(errors[0])
    assert not [r for r in asked if "999" in r.target or "search" in r.target
                or "333" in r.target]


def test_a_unicode_hashtag_is_percent_encoded_in_the_path(env: pytest.MonkeyPatch) -> None:
    with HostileServer(empty) as server:
        configure(env, "mastodon", server.url, HASHTAGS='["café_chat"]')
        pipelines.run("mastodon")
        asked = server.paths("/timelines/tag/")
    assert asked and all(r.startswith("/mastodon/api/v1/timelines/tag/caf%C3%A9_chat?")
                         for r in asked)


def test_a_graph_item_id_that_would_change_the_url_is_quarantined_and_not_followed(
        env: pytest.MonkeyPatch) -> None:
    post = {"id": "222_1/../../333", "message": "hi", "created_time": "2026-09-01T08:00:00+0000"}
    with HostileServer(routed({"/222/feed": lambda a: Answer(body={"data": [post]})})) as server:
        configure(env, "meta", server.url)
        pipelines.run("meta")
        asked = server.paths()
    assert not [r for r in asked if "333" in r or "/comments" in r]
    assert query(env_warehouse(), "select item_id, reason from raw_meta.page_posts_quarantine") \
        == [("222_1/../../333", "id is not a valid id on Graph: '222_1/../../333'")]


# --- 14. the token is redacted in every encoding -------------------------------------------

def encodings(token: str) -> dict[str, str]:
    b64 = base64.b64encode(token.encode()).decode()
    return {"raw": token, "url-encoded": quote(token, safe=""),
            "url-encoded lower": re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(),
                                        quote(token, safe="")),
            "form-encoded": quote_plus(token), "double-encoded": quote(quote(token, safe=""),
                                                                       safe=""),
            "json-escaped": token.replace("/", "\\/"), "base64": b64,
            "base64 unpadded": b64.rstrip("="),
            "base64 url-safe": base64.urlsafe_b64encode(token.encode()).decode()}


def _echo(platform: str, status: int, token: str) -> Answer:
    text = "echo " + " | ".join(encodings(token).values())
    body = {"x": {"title": "Unauthorized", "detail": text},
            "meta": {"error": {"message": text, "type": "OAuthException", "code": 190}},
            "mastodon": {"error": text}}[platform]
    return Answer(status=status, body=body)


@pytest.mark.parametrize("status", [401, 403, 500])
@pytest.mark.parametrize("platform", ["x", "meta", "mastodon"])
def test_an_echoed_token_is_redacted_in_every_encoding(
        env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, platform: str,
        status: int) -> None:
    caplog.set_level(logging.DEBUG)
    token = TOKENS[platform]
    with HostileServer(lambda a: _echo(platform, status, token)) as server:
        configure(env, platform, server.url)
        with pytest.raises(Exception) as failure:
            pipelines.run(platform)
        assert server.requests and all(r.authorization == f"Bearer {token}"
                                       for r in server.requests)
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors and errors[0].status == status and "echo ***" in str(errors[0])
    everything = "\n".join(str(e) for e in error_chain(failure.value)) + caplog.text
    leaked = {name for name, form in encodings(token).items() if form in everything}
    assert not leaked
