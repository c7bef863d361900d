"""The API sources against recorded-shape pages on a loopback server: paging, rate limits,
server errors, broken bodies, clear failures, and cursors that move only with landed data.

Pages live in ``tests/fixtures/api`` (written by hand from the platforms' documented formats);
a page file holding a list of envelopes answers them in turn (a 429, then the page).
"""

from __future__ import annotations

import calendar
import json
import logging
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from requests import Response

from ingestion import pipelines
from ingestion.demo.replay import ReplayServer
from ingestion.sources import meta as meta_source_module
from ingestion.sources.rest import REQUEST_STATS, HttpPolicy, SourceHTTPError, retry_delay
from tests.conftest import query

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


def load_every_source(root: Path, warehouse: Path, max_attempts: int = 4) -> None:
    """Every source's pipeline into ``warehouse``: the API sources against the recorded pages
    under ``root / "api"`` (served on loopback for the run), the file sources against the
    exports under ``root / "exports"``; settings of the calling environment are left out."""
    with ReplayServer(root / "api") as server, pytest.MonkeyPatch.context() as mp:
        for key in [k for k in os.environ if k.startswith("SOURCES__")]:
            mp.delenv(key)
        mp.setenv("RAPPORT_WAREHOUSE", str(warehouse))
        configure(mp, server.url, max_attempts=max_attempts)
        mp.setenv("SOURCES__INBOX__BUCKET_URL", (root / "exports" / "inbox").as_uri())
        mp.setenv("SOURCES__CRM__BUCKET_URL", (root / "exports" / "crm").as_uri())
        for source in ("x", "meta", "mastodon", "inbox", "crm"):
            pipelines.run(source)


@pytest.fixture
def api(isolated_env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
        ) -> Iterator[tuple[ReplayServer, Path]]:
    """A private copy of the recorded pages, served on loopback, sources pointed at it."""
    root = tmp_path / "pages"
    shutil.copytree(FIXTURES / "api", root)
    with ReplayServer(root) as server:
        configure(monkeypatch, server.url)
        yield server, root


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
    REQUEST_STATS.pop("x", None)
    pipelines.run("x")
    # every try is counted, the three retried ones (429, 503, truncated body) as retries
    assert REQUEST_STATS["x"].requests == len(server.requests)
    assert REQUEST_STATS["x"].retries == 3
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
    # one client per account for the night: every edge of an account (each post's comments,
    # each thread's messages) is read over the connection it keeps alive
    assert len(server.requests) > 10 and server.connections == len(META_TOKENS)


def _meta_snapshot_at(monkeypatch: pytest.MonkeyPatch, moment: str) -> None:
    # the night's clock: an account snapshot is keyed by the UTC day it was taken
    monkeypatch.setattr(meta_source_module, "snapshot_time",
                        lambda: datetime.fromisoformat(moment))


def _write_meta_object(root: Path, account_id: str, body: dict, status: int = 200) -> None:
    (root / "meta" / account_id / "first.json").write_text(
        json.dumps({"status": status, "headers": {}, "body": body}))


def test_meta_accounts_keep_one_follower_snapshot_per_account_and_utc_day(
        api: tuple[ReplayServer, Path], isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, root = api
    sql = ("select platform, id, snapshot_date::varchar, followers_count, fan_count, "
           "follows_count, media_count from raw_meta.accounts order by snapshot_date, platform")
    _meta_snapshot_at(monkeypatch, "2026-09-04T01:00:00+00:00")
    pipelines.run("meta")
    assert query(isolated_env, sql) == [
        ("facebook", "222", "2026-09-04", 31250, 29800, None, None),
        ("instagram", "333", "2026-09-04", 18400, None, 120, 640)]
    assert [r for r in hits(server, "/meta/222?") if "fields=id%2Cname%2Cfollowers_count" in r]
    assert [r for r in hits(server, "/meta/333?") if "media_count" in r]
    # a re-run later the same UTC day replaces that day's row
    _write_meta_object(root, "333", {"id": "333", "username": "brewly", "followers_count": 18460,
                                     "follows_count": 121, "media_count": 641})
    _meta_snapshot_at(monkeypatch, "2026-09-04T23:30:00+00:00")
    pipelines.run("meta")
    assert query(isolated_env, sql)[1] == ("instagram", "333", "2026-09-04", 18460, None, 121, 641)
    assert query(isolated_env, "select count(*) from raw_meta.accounts") == [(2,)]
    # the next night adds a row per account: a follower history
    _meta_snapshot_at(monkeypatch, "2026-09-05T01:00:00+00:00")
    pipelines.run("meta")
    assert query(isolated_env, "select id, list(followers_count order by snapshot_date) "
                               "from raw_meta.accounts group by id order by id") == [
        ("222", [31250, 31250]), ("333", [18460, 18460])]


def test_meta_account_with_a_broken_count_is_quarantined_and_the_others_load(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    _, root = api
    _write_meta_object(root, "333", {"id": "333", "username": "brewly",
                                     "followers_count": "18.4K", "media_count": 640})
    pipelines.run("meta")
    assert query(isolated_env, "select platform, id, followers_count from raw_meta.accounts") \
        == [("facebook", "222", 31250)]
    assert query(isolated_env, "select endpoint, item_id, reason from "
                               "raw_meta.accounts_quarantine") == [
        ("/333", "333", "followers_count is not a number: '18.4K'")]


def test_a_failing_meta_account_call_names_the_endpoint_but_never_the_token(
        api: tuple[ReplayServer, Path], isolated_env: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    _, root = api
    caplog.set_level(logging.DEBUG)
    _write_meta_object(root, "333", {"error": {
        "message": "(#100) Tried accessing nonexisting field (followers_count)",
        "type": "OAuthException", "code": 100}}, status=400)
    with pytest.raises(Exception) as failure:
        pipelines.run("meta")
    errors = [e for e in error_chain(failure.value) if isinstance(e, SourceHTTPError)]
    assert errors and errors[0].status == 400
    assert "source 'meta'" in str(errors[0]) and "GET /meta/333 failed" in str(errors[0])
    everything = str(failure.value) + str(errors[0]) + caplog.text
    assert not [s for s in SECRETS if s in everything]


def _comment_on(root: Path, post_id: str, comment_id: str, at: str) -> None:
    (root / "meta" / post_id / "comments" / "first.json").write_text(json.dumps(
        {"status": 200, "headers": {}, "body": {"data": [
            {"id": comment_id, "message": "Still loving it", "created_time": at,
             "from": {"id": "602", "name": "Emil"}}]}}))


def test_comments_on_posts_older_than_the_lookback_keep_arriving_for_comment_days(
        api: tuple[ReplayServer, Path], isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, root = api
    # posts 222_1, 222_2, 222_3 were made on Sep 1, 2 and 3 at 08:00: the next night's feed
    # window (newest minus 12 h) holds only 222_3; comment_days keeps 222_2 but not 222_1
    monkeypatch.setenv("SOURCES__META__LOOKBACK_DAYS", "0.5")
    monkeypatch.setenv("SOURCES__META__COMMENT_DAYS", "1.5")
    pipelines.run("meta")
    _comment_on(root, "222_2", "222_2_20", "2026-09-20T10:00:00+0000")
    _comment_on(root, "222_1", "222_1_30", "2026-09-20T11:00:00+0000")
    post = json.loads((root / "meta" / "222_2" / "first.json").read_text())
    post["body"]["reactions"]["summary"]["total_count"] = 15
    (root / "meta" / "222_2" / "first.json").write_text(json.dumps(post))
    since = calendar.timegm((2026, 9, 2, 20, 0, 0))
    # Graph carries the request's since into paging.next (the recorded link has none)
    feed = root / "meta" / "222" / "feed" / "first.json"
    feed.write_text(feed.read_text().replace("&after=p2", f"&since={since}&after=p2"))
    server.requests.clear()
    pipelines.run("meta")
    assert all(f"since={since}" in r for r in hits(server, "/222/feed?") if "after=" not in r)
    assert len(hits(server, "/meta/222_2?")) == 1 and hits(server, "/meta/222_2/comments?")
    assert not hits(server, "/meta/222_1")
    assert query(isolated_env, "select id, post_id from raw_meta.post_comments "
                               "where id in ('222_2_20', '222_1_30')") == [("222_2_20", "222_2")]
    # the post read again merged its newer counters
    assert query(isolated_env, "select reactions__summary__total_count from "
                               "raw_meta.page_posts where id = '222_2'") == [(15,)]


def test_a_remembered_post_deleted_since_is_forgotten_without_failing_the_night(
        api: tuple[ReplayServer, Path], isolated_env: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    server, root = api
    monkeypatch.setenv("SOURCES__META__LOOKBACK_DAYS", "0.5")
    monkeypatch.setenv("SOURCES__META__COMMENT_DAYS", "1.5")
    pipelines.run("meta")
    _write_meta_object(root, "222_2", {"error": {
        "message": "Unsupported get request. Object with ID '222_2' does not exist",
        "type": "GraphMethodException", "code": 100}}, status=400)
    pipelines.run("meta")  # the night loads; the post stays as last read
    assert query(isolated_env, "select count(*) from raw_meta.page_posts") == [(3,)]
    server.requests.clear()
    pipelines.run("meta")
    assert hits(server, "/222/feed?") and not hits(server, "/meta/222_2")


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


MASTODON_CONVERSATIONS = "/mastodon/api/v1/conversations?"


def test_mastodon_conversations_follow_link_headers_and_quarantine_a_bad_item(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, _ = api
    pipelines.run("mastodon")
    rows = query(isolated_env, "select owned_account_id, id, last_status__id, "
                               "last_status__account__id, last_status__content_text, "
                               "accounts->>'$[0].acct', unread "
                               "from raw_mastodon.conversations order by id")
    assert rows == [
        ("444", "29", "117200741990400007", "444", "@gus your refund is on its way",
         "gus@other.example", False),
        ("444", "31", "117217375027200007", "801", "@brewly My order never arrived 😟",
         "fay@other.example", True),
    ]
    # the first page, then the page its Link header names as rel="next"
    assert [r.split("?", 1)[1] for r in hits(server, MASTODON_CONVERSATIONS)] == [
        "limit=40", "max_id=p2"]
    quarantined = query(isolated_env, "select item_id, endpoint, reason "
                                      "from raw_mastodon.conversations_quarantine")
    assert quarantined == [("32", "/api/v1/conversations", "last_status.created_at is not a "
                            "time: '2026-09-05T12:00:00' has no time zone")]


def test_mastodon_conversations_next_night_asks_min_id_of_the_last_status_and_merges(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    server, root = api
    pipelines.run("mastodon")
    # Gus answers in conversation 29 after the first night: it comes back with a new last status
    first = root / "mastodon" / "_as" / "444" / "api" / "v1" / "conversations" / "first.json"
    page = json.loads(first.read_text())
    gus = page["body"][0]["accounts"][0]
    page["body"].insert(0, {"id": "29", "unread": True, "accounts": [gus], "last_status": {
        "id": "117223509196800007", "created_at": "2026-09-06T10:00:00.000Z",
        "in_reply_to_id": "117200741990400007", "in_reply_to_account_id": "444",
        "visibility": "direct", "language": "en", "content": "<p>It arrived, thanks!</p>",
        "account": gus}})
    first.write_text(json.dumps(page))
    server.requests.clear()
    pipelines.run("mastodon")
    # min_id = newest loaded last status (conversation 31; the quarantined 32 is newer but
    # never moves the cursor) minus the 3-day lookback: 3 * 86_400_000 ms << 16
    asked = hits(server, MASTODON_CONVERSATIONS)
    assert asked and all("min_id=117200388096000007" in r for r in asked[:1])
    assert all("min_id=" in r and "max_id" not in r for r in asked)
    rows = query(isolated_env, "select id, last_status__id, last_status__content_text, unread "
                               "from raw_mastodon.conversations order by id")
    assert rows == [("29", "117223509196800007", "It arrived, thanks!", True),
                    ("31", "117217375027200007", "@brewly My order never arrived 😟", True)]


def test_dagster_materializations_carry_each_sources_api_costs(
        api: tuple[ReplayServer, Path], isolated_env: Path) -> None:
    from dagster import AssetKey, DagsterInstance, materialize

    from orchestration.assets.ingestion import raw_assets
    from orchestration.resources import RESOURCES

    server, _ = api
    x_assets = next(a for a in raw_assets if AssetKey(["x", "mentions"]) in a.keys)
    result = materialize([x_assets], resources={k: RESOURCES[k] for k in ("dlt", "backfill")},
                         instance=DagsterInstance.ephemeral())
    assert result.success
    events = result.asset_materializations_for_node(x_assets.node_def.name)
    metadata = {e.asset_key: e.metadata for e in events}
    mentions = metadata[AssetKey(["x", "mentions"])]
    # the fixture's 429, 503 and truncated body are retried: every try is one request
    assert mentions["source_api_requests"].value == len(server.requests)
    assert mentions["source_api_retries"].value == 3
    assert mentions["source_api_seconds"].value > 0
    assert metadata[AssetKey(["x", "dm_events"])]["source_api_requests"].value == len(
        server.requests)
