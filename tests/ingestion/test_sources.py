"""Sources against the replay server on loopback, and their configuration errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingestion import pipelines
from ingestion.demo import brand
from ingestion.demo.config import demo_environment
from ingestion.demo.replay import ReplayServer
from ingestion.sources.mastodon.helpers import html_to_text
from ingestion.sources.mastodon.settings import NOTIFICATION_RULES
from ingestion.sources.rest import SourceConfigError
from ingestion.sources.validation import screen


def test_missing_setting_names_the_setting_and_env_var(isolated_env: Path) -> None:
    with pytest.raises(Exception) as failure:
        pipelines.run("inbox")
    chain, error = [], failure.value
    while error is not None:
        chain.append(error)
        error = error.__cause__ or error.__context__
    config_errors = [e for e in chain if isinstance(e, SourceConfigError)]
    assert config_errors, chain
    assert "SOURCES__INBOX__BUCKET_URL" in str(config_errors[0])
    assert "[sources.inbox] bucket_url" in str(config_errors[0])


def test_missing_token_is_reported_without_loading_anything(
        isolated_env: Path, monkeypatch: pytest.MonkeyPatch, demo_data: Path) -> None:
    with ReplayServer(demo_data / "payloads") as server:
        monkeypatch.setenv("SOURCES__X__BASE_URL", f"{server.url}/x")
        monkeypatch.setenv("SOURCES__X__ACCOUNT_IDS", json.dumps(["1000000000000000001"]))
        with pytest.raises(Exception, match="bearer_token"):
            pipelines.run("x")


def test_x_source_follows_every_page(isolated_env: Path, monkeypatch: pytest.MonkeyPatch,
                                     demo_data: Path) -> None:
    import duckdb

    payloads = demo_data / "payloads"
    expected = 0
    for account in brand.accounts("x"):
        folder = payloads / "x" / "2" / "users" / account.account_id / "mentions"
        for page in folder.glob("*.json"):
            expected += len(json.loads(page.read_text())["body"].get("data", []))
    with ReplayServer(payloads) as server:
        for key, value in demo_environment(payloads, server.url).items():
            monkeypatch.setenv(key, value)
        pipelines.run("x")
        paged = [r for r in server.requests if "pagination_token=" in r]
    con = duckdb.connect(str(isolated_env), read_only=True)
    loaded = con.execute("select count(*) from raw_x.mentions").fetchall()[0][0]
    with_author = con.execute(
        "select count(*) from raw_x.mentions where author__username is not null").fetchall()[0][0]
    con.close()
    assert expected > 100 and loaded == expected
    assert with_author == loaded  # includes.users expansion joined onto every tweet
    assert paged  # later pages were requested with the cursor
    assert not any("demo-" in r for r in server.requests)  # tokens stay out of URLs


@pytest.mark.parametrize(("html", "text"), [
    ("<p>Hello &amp; welcome</p>", "Hello & welcome"),
    ('<p><span class="h-card"><a href="x">@<span>brewly</span></a></span> hi</p>',
     "@brewly hi"),
    ("<p>one</p><p>two<br>three</p>", "one\ntwo\nthree"),
    (None, None),
])
def test_mastodon_html_becomes_text(html: str | None, text: str | None) -> None:
    assert html_to_text(html) == text


@pytest.mark.parametrize("kind", [{"name": "mention"}, ["mention"], 7])
def test_mastodon_notification_whose_type_is_not_text_is_quarantined_not_a_crash(
        kind: object) -> None:
    item = {"id": "9001", "type": kind, "created_at": "2026-09-01T10:00:00.000Z",
            "account": {"id": "7", "acct": "someone"}}
    good, bad = screen([item], NOTIFICATION_RULES, "/api/v1/notifications")
    assert good == [] and [row["reason"] for row in bad] == ["type is not text"]
