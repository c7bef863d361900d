"""The API sources against recorded-shape pages on a loopback server: paging, rate limits,
server errors, broken bodies, clear failures, and cursors that move only with landed data.

Pages live in ``tests/fixtures/api`` (written by hand from the platforms' documented formats);
a page file holding a list of envelopes answers them in turn (a 429, then the page).
"""

from __future__ import annotations

import calendar
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from requests import Response

from ingestion import pipelines
from ingestion.demo.replay import ReplayServer
from ingestion.sources.rest import HttpPolicy, SourceHTTPError, retry_delay

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
APP_TOKEN = "app-SECRET-TOKEN-x"
META_TOKENS = {"222": "EAAB-SECRET-PAGE", "333": "EAAB-SECRET-IG"}
SECRETS = (APP_TOKEN, "demo-111", "demo-444", *META_TOKENS.values(), "EAAB-SECRET-IN-LINK")


def configure(mp: pytest.MonkeyPatch, url: str, max_attempts: int = 4) -> None:
    """Point every API source at the loopback server with fast, bounded retries."""
    settings = {
        "X__BASE_URL": f"{url}/x", "X__ACCOUNT_IDS": '["111"]',
        "X__SEARCH_QUERY": "Brewly OR Beanix", "X__BEARER_TOKEN": APP_TOKEN,
        "X__USER_TOKENS": json.dumps({"111": "demo-111"}),
        "META__BASE_URL": f"{url}/meta", "META__PAGE_IDS": '["222"]',
        "META__INSTAGRAM_ACCOUNT_IDS": '["333"]', "META__ACCESS_TOKENS": json.dumps(META_TOKENS),
        "MASTODON__BASE_URL": f"{url}/mastodon", "MASTODON__ACCOUNT_IDS": '["444"]',
        "MASTODON__HASHTAGS": '["brewchat"]',
        "MASTODON__ACCESS_TOKENS": json.dumps({"444": "demo-444"}),
    }
    for source in ("X", "META", "MASTODON"):
        settings.update({f"{source}__MAX_ATTEMPTS": str(max_attempts),
                         f"{source}__MAX_WAIT_SECONDS": "3", f"{source}__BACKOFF_SECONDS": "0.05"})
    for key, value in settings.items():
        mp.setenv(f"SOURCES__{key}", value)


@pytest.fixture
def api(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
        ) -> Iterator[tuple[ReplayServer, Path]]:
    """A private copy of the recorded pages, served on loopback, sources pointed at it."""
    root = tmp_path / "pages"
    shutil.copytree(FIXTURES / "api", root)
    with ReplayServer(root) as server:
        configure(monkeypatch, server.url)
        yield server, root


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def hits(server: ReplayServer, fragment: str) -> list[str]:
    return [r for r in server.requests if fragment in r]


def error_chain(error: BaseException) -> list[BaseException]:
    chain = []
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    return chain


def test_x_reads_every_page_through_rate_limit_server_error_and_truncated_body(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, _ = api
    pipelines.run("x")
    mentions = query(isolated_env, "select id, author__username, author__public_metrics__"
                                   "followers_count from raw_x.mentions order by id")
    assert [m[0] for m in mentions] == ["1790000000000000001", "1790000000000000002",
                                        "1790000000000000003"]
    assert dict((m[1], m[2]) for m in mentions) == {"anna": 120, "ben": 3400}
    # 429 then the page, 503 then the page, a truncated body then the page: each asked twice
    assert len(hits(server, "/mentions?")) == 2 + 2
    assert len(hits(server, "/search/recent")) == 2
    assert query(isolated_env, "select count(*) from raw_x.search_results") == [(1,)]
    assert query(isolated_env, "select count(*) from raw_x.dm_events") == [(2,)]
    # a field the API added since the fixture's format was documented lands as a column
    assert query(isolated_env, "select note_tweet__text from raw_x.mentions where note_tweet__text"
                               " is not null") == [("an unknown extra field the API added",)]


def test_meta_backs_off_graph_rate_limit_codes_and_follows_paging_next(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, _ = api
    pipelines.run("meta")
    assert query(isolated_env, "select count(*) from raw_meta.page_posts") == [(3,)]
    assert query(isolated_env, "select id, parent__id from raw_meta.post_comments order by id") \
        == [("222_3_10", None), ("222_3_11", "222_3_10")]
    assert query(isolated_env, "select count(*) from raw_meta.conversation_messages") == [(2,)]
    assert query(isolated_env, "select id, parent_id from raw_meta.ig_comments order by id") == [
        ("17800000000000001", None), ("17800000000000002", "17800000000000001")]
    assert len(hits(server, "/222/feed?")) == 2 + 1  # code 613, the page, then paging.next
    assert not [r for r in server.requests if "access_token" in r]  # dropped from paging.next


def test_mastodon_follows_link_headers_and_waits_out_a_429(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, _ = api
    pipelines.run("mastodon")
    notes = query(isolated_env, "select id, type, status__content_text from "
                                "raw_mastodon.notifications order by id")
    assert [(n[0], n[1]) for n in notes] == [("9001", "follow"), ("9002", "favourite"),
                                             ("9003", "mention")]
    assert notes[2][2] == "@brewly Is the app down? 😕"
    assert query(isolated_env, "select count(*) from raw_mastodon.statuses") == [(2,)]
    assert query(isolated_env, "select content_text from raw_mastodon.tag_statuses") == [
        ("Flat white time #brewchat",)]
    assert len(hits(server, "/api/v1/notifications")) == 2 + 1


def test_second_night_asks_each_platform_only_for_newer_items(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, _ = api
    for source in ("x", "meta", "mastodon"):
        pipelines.run(source)
    server.requests.clear()
    for source in ("x", "meta", "mastodon"):
        pipelines.run(source)
    assert hits(server, "/111/mentions?") and all(
        "since_id=1790000000000000003" in r for r in hits(server, "/111/mentions?"))
    assert all("since_id=1790000000000000010" in r for r in hits(server, "/search/recent"))
    # Graph: since = newest post (2026-09-03T08:00Z) minus the 14-day lookback
    since = calendar.timegm((2026, 8, 20, 8, 0, 0))
    first_pages = [r for r in hits(server, "/222/feed?") if "after=" not in r]
    assert first_pages and all(f"since={since}" in r for r in first_pages)
    assert all("min_id=9003" in r for r in hits(server, "/api/v1/notifications?"))
    assert query(isolated_env, "select count(*) from raw_mastodon.notifications") == [(3,)]
    assert query(isolated_env, "select count(*) from raw_x.mentions") == [(3,)]


def test_a_night_that_fails_half_way_does_not_move_the_cursor(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, root = api
    second_page = root / "x" / "2" / "users" / "111" / "mentions" / "p2.json"
    good = second_page.read_text()
    second_page.write_text(json.dumps({"status": 401, "headers": {},
                                       "body": {"title": "Unauthorized"}}))
    with pytest.raises(Exception) as failure:
        pipelines.run("x")  # page one was read, page two refused: nothing may land
    assert any(isinstance(e, SourceHTTPError) for e in error_chain(failure.value))
    assert not query(isolated_env, "select table_name from information_schema.tables "
                                   "where table_schema = 'raw_x' and table_name = 'mentions'")
    second_page.write_text(good)
    server.requests.clear()
    pipelines.run("x")
    assert not hits(server, "since_id")  # the failed night left no cursor behind
    assert query(isolated_env, "select count(*) from raw_x.mentions") == [(3,)]


def test_unauthorized_names_source_and_endpoint_but_never_the_token(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with ReplayServer(FIXTURES / "api_failures") as server:
        configure(monkeypatch, server.url)
        with pytest.raises(Exception) as failure:
            pipelines.run("x")
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors and errors[0].status == 401
    message = str(errors[0])
    assert "source 'x'" in message and "/2/users/111/mentions" in message and "401" in message
    everything = str(failure.value) + message + caplog.text
    assert not [s for s in SECRETS if s in everything]


def test_other_graph_errors_fail_clearly_with_the_endpoint(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplayServer(FIXTURES / "api_failures") as server:
        configure(monkeypatch, server.url)
        with pytest.raises(Exception) as failure:
            pipelines.run("meta")
        feed_requests = hits(server, "/222/feed")
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors and errors[0].status == 400
    assert "/meta/222/feed" in str(errors[0]) and "Unsupported get request" in str(errors[0])
    assert len(feed_requests) == 1  # code 100 is not a rate limit: no retry


def test_truncated_body_is_retried_a_bounded_number_of_times_then_fails_clearly(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ReplayServer(FIXTURES / "api_failures") as server:
        configure(monkeypatch, server.url, max_attempts=3)
        with pytest.raises(Exception) as failure:
            pipelines.run("mastodon")
        attempts = hits(server, "/api/v1/notifications")
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors and "not valid JSON" in str(errors[0]) and "after 3 attempts" in str(errors[0])
    assert len(attempts) == 3


def _response(headers: dict[str, str], status: int = 429) -> Response:
    response = Response()
    response.status_code = status
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(("headers", "max_wait", "expected"), [
    ({"x-rate-limit-reset": "1030"}, 900, 30.0),  # X: epoch seconds
    ({"x-rate-limit-reset": "5000"}, 60, 60.0),  # capped by max_wait_seconds
    ({"X-RateLimit-Reset": "1970-01-01T00:17:00Z"}, 900, 20.0),  # Mastodon: ISO time
    ({"Retry-After": "7"}, 900, 7.0),
    ({}, 900, 4.0),  # no hint: exponential backoff, third attempt = 1 * 2**2
])
def test_rate_limit_wait_follows_the_platforms_reset_time_within_the_cap(
        headers: dict[str, str], max_wait: float, expected: float) -> None:
    policy = HttpPolicy(max_wait_seconds=max_wait, backoff_seconds=1.0)
    assert retry_delay(_response(headers), attempt=3, policy=policy, now=1000.0) == expected
