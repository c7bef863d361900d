"""ingestion.configuration.check_source: each source not configured, configured or invalid.

The settings are given as a new user gives them, in environment variables (dlt reads those
first); every other SOURCES__* variable of this machine is removed. Each invalid case checks
that the problem names the setting's ``.dlt`` key and its environment variable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingestion.configuration import (
    CONFIGURED,
    INVALID,
    NOT_CONFIGURED,
    SETTINGS,
    check_source,
    check_sources,
    env_var,
)

SOURCES = ("x", "meta", "mastodon", "inbox", "crm")
FAKE_SECRET = "FAKE-SECRET-7f3c91d2a4"  # must never appear in a problem or a note


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """No source settings from this machine's environment; cwd a folder without .dlt/."""
    for key in list(os.environ):
        if key.startswith("SOURCES__"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def _set(mp: pytest.MonkeyPatch, settings: dict[str, str]) -> None:
    for key, value in settings.items():
        mp.setenv(key, value)


def _text(config) -> str:
    return "\n".join(config.problems + config.notes + [config.summary()])


def test_env_var_is_what_dlt_reads() -> None:
    assert env_var("mastodon", "access_tokens") == "SOURCES__MASTODON__ACCESS_TOKENS"
    assert env_var("mastodon", "access_tokens.110") == "SOURCES__MASTODON__ACCESS_TOKENS__110"


@pytest.mark.parametrize("source", SOURCES)
def test_nothing_set_is_not_configured_and_names_the_first_setting(env, source: str) -> None:
    config = check_source(source)
    assert config.state == NOT_CONFIGURED
    assert not config.configured
    assert config.problems == []
    first = SETTINGS[source][0].name
    assert f"[sources.{source}] {first}" in config.summary()
    assert env_var(source, first) in config.summary()


def test_check_sources_covers_every_pipeline_source(env) -> None:
    assert set(check_sources()) == set(SOURCES)
    assert all(c.state == NOT_CONFIGURED for c in check_sources().values())


CONFIGURED_CASES = {
    "x": {"SOURCES__X__ACCOUNT_IDS": '["111", "222"]', "SOURCES__X__BEARER_TOKEN": FAKE_SECRET},
    "x_with_dms": {"SOURCES__X__ACCOUNT_IDS": "[111]", "SOURCES__X__BEARER_TOKEN": FAKE_SECRET,
                   "SOURCES__X__USER_TOKENS": f'{{"111": "{FAKE_SECRET}"}}',
                   "SOURCES__X__SEARCH_QUERY": "brand OR @brand",
                   "SOURCES__X__BASE_URL": "http://127.0.0.1:9"},
    "meta": {"SOURCES__META__PAGE_IDS": '["1001"]',
             "SOURCES__META__ACCESS_TOKENS": f'{{"1001": "{FAKE_SECRET}"}}'},
    "meta_instagram_only": {"SOURCES__META__INSTAGRAM_ACCOUNT_IDS": '["17841"]',
                            "SOURCES__META__ACCESS_TOKENS": f'{{"17841": "{FAKE_SECRET}"}}'},
    "mastodon": {"SOURCES__MASTODON__BASE_URL": "https://social.example",
                 "SOURCES__MASTODON__ACCOUNT_IDS": '["109"]',
                 "SOURCES__MASTODON__ACCESS_TOKENS": f'{{"109": "{FAKE_SECRET}"}}',
                 "SOURCES__MASTODON__HASHTAGS": '["Veloflott", "Fahrrad_2026", "Café"]'},
    "inbox": {"SOURCES__INBOX__BUCKET_URL": "file://{tmp}"},
    "inbox_s3": {"SOURCES__INBOX__BUCKET_URL": "s3://bucket/inbox"},
    "crm": {"SOURCES__CRM__BUCKET_URL": "file://{tmp}"},
}


@pytest.mark.parametrize("case", CONFIGURED_CASES)
def test_complete_settings_are_configured(env, tmp_path: Path, case: str) -> None:
    source = case.split("_")[0]
    _set(env, {k: v.replace("{tmp}", str(tmp_path)) for k, v in CONFIGURED_CASES[case].items()})
    config = check_source(source)
    assert (config.state, config.problems) == (CONFIGURED, [])
    assert config.configured
    assert FAKE_SECRET not in _text(config)
    # the other sources stay off
    assert {s for s, c in check_sources().items() if c.configured} == {source}


def test_optional_parts_left_out_are_notes_not_problems(env) -> None:
    _set(env, CONFIGURED_CASES["x"])
    config = check_source("x")
    assert config.state == CONFIGURED
    assert any("user_tokens" in n and "direct messages" in n for n in config.notes)
    assert any("search_query" in n for n in config.notes)
    _set(env, {"SOURCES__MASTODON__BASE_URL": "http://127.0.0.1:9",
               "SOURCES__MASTODON__ACCOUNT_IDS": '["109"]',
               "SOURCES__MASTODON__ACCESS_TOKENS": f'{{"109": "{FAKE_SECRET}"}}'})
    assert any("no hashtags" in n for n in check_source("mastodon").notes)


# (source, settings, [(text the problem holds, its .dlt key, its env var)])
INVALID_CASES = {
    "x_account_ids_without_bearer_token": (
        "x", {"SOURCES__X__ACCOUNT_IDS": '["111"]'},
        [("missing bearer_token", "[sources.x] bearer_token in .dlt/secrets.toml",
          "SOURCES__X__BEARER_TOKEN")]),
    "x_bearer_token_without_account_ids": (
        "x", {"SOURCES__X__BEARER_TOKEN": FAKE_SECRET},
        [("missing account_ids", "[sources.x] account_ids in .dlt/config.toml",
          "SOURCES__X__ACCOUNT_IDS")]),
    "x_only_a_search_query": (
        "x", {"SOURCES__X__SEARCH_QUERY": "brand"},
        [("missing account_ids", "[sources.x] account_ids", "SOURCES__X__ACCOUNT_IDS"),
         ("missing bearer_token", "[sources.x] bearer_token", "SOURCES__X__BEARER_TOKEN")]),
    "x_non_numeric_account_ids": (
        "x", {"SOURCES__X__ACCOUNT_IDS": '["@brand", "111"]',
              "SOURCES__X__BEARER_TOKEN": FAKE_SECRET},
        [("not numeric ids within 64 bits (e.g. '@brand')", "[sources.x] account_ids",
          "SOURCES__X__ACCOUNT_IDS")]),
    "x_account_ids_not_a_json_list": (
        "x", {"SOURCES__X__ACCOUNT_IDS": "111,222", "SOURCES__X__BEARER_TOKEN": FAKE_SECRET},
        [("account_ids is not a JSON list", "[sources.x] account_ids",
          "SOURCES__X__ACCOUNT_IDS")]),
    "x_user_tokens_missing_an_account": (
        "x", {"SOURCES__X__ACCOUNT_IDS": '["111", "222"]',
              "SOURCES__X__BEARER_TOKEN": FAKE_SECRET,
              "SOURCES__X__USER_TOKENS": f'{{"111": "{FAKE_SECRET}"}}'},
        [("user_tokens has no token for account 222",
          "[sources.x] user_tokens.222 in .dlt/secrets.toml",
          "SOURCES__X__USER_TOKENS__222")]),
    "x_user_tokens_a_bare_token": (
        "x", {"SOURCES__X__ACCOUNT_IDS": '["111"]', "SOURCES__X__BEARER_TOKEN": FAKE_SECRET,
              "SOURCES__X__USER_TOKENS": FAKE_SECRET},
        [("user_tokens is not a JSON object", "[sources.x] user_tokens in .dlt/secrets.toml",
          "SOURCES__X__USER_TOKENS")]),
    "meta_non_numeric_page_id": (
        "meta", {"SOURCES__META__PAGE_IDS": '["backstube-krume"]',
                 "SOURCES__META__ACCESS_TOKENS": f'{{"backstube-krume": "{FAKE_SECRET}"}}'},
        [("not numeric ids within 64 bits (e.g. 'backstube-krume')", "[sources.meta] page_ids",
          "SOURCES__META__PAGE_IDS")]),
    "x_account_id_beyond_64_bits": (
        "x", {"SOURCES__X__ACCOUNT_IDS": '["99999999999999999999"]',
              "SOURCES__X__BEARER_TOKEN": FAKE_SECRET},
        [("not numeric ids within 64 bits (e.g. '99999999999999999999')",
          "[sources.x] account_ids", "SOURCES__X__ACCOUNT_IDS")]),
    "meta_page_ids_not_a_json_list": (
        "meta", {"SOURCES__META__PAGE_IDS": "1001",
                 "SOURCES__META__INSTAGRAM_ACCOUNT_IDS": '["17841"]',
                 "SOURCES__META__ACCESS_TOKENS": f'{{"17841": "{FAKE_SECRET}"}}'},
        [("page_ids is not a JSON list", "[sources.meta] page_ids",
          "SOURCES__META__PAGE_IDS")]),
    "meta_tokens_missing_an_account": (
        "meta", {"SOURCES__META__PAGE_IDS": '["1001"]',
                 "SOURCES__META__INSTAGRAM_ACCOUNT_IDS": '["17841"]',
                 "SOURCES__META__ACCESS_TOKENS": f'{{"1001": "{FAKE_SECRET}"}}'},
        [("access_tokens has no token for account 17841",
          "[sources.meta] access_tokens.17841 in .dlt/secrets.toml",
          "SOURCES__META__ACCESS_TOKENS__17841")]),
    "meta_tokens_without_accounts": (
        "meta", {"SOURCES__META__ACCESS_TOKENS": f'{{"1001": "{FAKE_SECRET}"}}'},
        [("missing page_ids or instagram_account_ids", "[sources.meta] page_ids",
          "SOURCES__META__PAGE_IDS")]),
    "mastodon_hashtag_with_hash": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__HASHTAGS": '["#Veloflott"]'},
        [("without '#' (e.g. '#Veloflott')", "[sources.mastodon] hashtags",
          "SOURCES__MASTODON__HASHTAGS")]),
    "mastodon_hashtag_with_slash": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__HASHTAGS": '["ok", "rad/weg"]'},
        [("(e.g. 'rad/weg')", "[sources.mastodon] hashtags", "SOURCES__MASTODON__HASHTAGS")]),
    "mastodon_hashtags_not_a_list": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__HASHTAGS": "Veloflott"},
        [("hashtags is not a JSON list", "[sources.mastodon] hashtags",
          "SOURCES__MASTODON__HASHTAGS")]),
    "mastodon_tokens_missing_an_account": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__ACCOUNT_IDS": '["109", "110"]'},
        [("access_tokens has no token for account 110",
          "[sources.mastodon] access_tokens.110 in .dlt/secrets.toml",
          "SOURCES__MASTODON__ACCESS_TOKENS__110")]),
    "mastodon_empty_token": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__ACCESS_TOKENS": '{"109": ""}'},
        [("access_tokens has no token for account 109", "access_tokens.109",
          "SOURCES__MASTODON__ACCESS_TOKENS__109")]),
    "mastodon_https_base_url_with_query": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__BASE_URL": f"https://social.example/?token={FAKE_SECRET}"},
        [("base_url must not carry a query", "[sources.mastodon] base_url in .dlt/config.toml",
          "SOURCES__MASTODON__BASE_URL")]),
    "mastodon_base_url_not_http": (
        "mastodon", {**CONFIGURED_CASES["mastodon"],
                     "SOURCES__MASTODON__BASE_URL": "social.example"},
        [("is not an http(s) URL", "[sources.mastodon] base_url",
          "SOURCES__MASTODON__BASE_URL")]),
    "mastodon_missing_base_url": (
        "mastodon", {k: v for k, v in CONFIGURED_CASES["mastodon"].items()
                     if k != "SOURCES__MASTODON__BASE_URL"},
        [("missing base_url", "[sources.mastodon] base_url", "SOURCES__MASTODON__BASE_URL")]),
    "inbox_folder_does_not_exist": (
        "inbox", {"SOURCES__INBOX__BUCKET_URL": "file://{tmp}/no-such-folder"},
        [("bucket_url folder {tmp}/no-such-folder does not exist",
          "[sources.inbox] bucket_url in .dlt/config.toml", "SOURCES__INBOX__BUCKET_URL")]),
    "inbox_only_a_file_glob": (
        "inbox", {"SOURCES__INBOX__FILE_GLOB": "*.csv"},
        [("missing bucket_url", "[sources.inbox] bucket_url", "SOURCES__INBOX__BUCKET_URL")]),
    "crm_plain_path": (
        "crm", {"SOURCES__CRM__BUCKET_URL": "{tmp}"},
        [("must start with file:// or s3://", "[sources.crm] bucket_url",
          "SOURCES__CRM__BUCKET_URL")]),
    "crm_folder_does_not_exist": (
        "crm", {"SOURCES__CRM__BUCKET_URL": "file://{tmp}/crm-exports"},
        [("does not exist", "[sources.crm] bucket_url", "SOURCES__CRM__BUCKET_URL")]),
}


@pytest.mark.parametrize("case", INVALID_CASES)
def test_invalid_settings_are_named_with_key_and_env_var(env, tmp_path: Path,
                                                         case: str) -> None:
    source, settings, expected = INVALID_CASES[case]
    _set(env, {k: v.replace("{tmp}", str(tmp_path)) for k, v in settings.items()})
    config = check_source(source)
    assert config.state == INVALID, config
    assert not config.configured
    for text, key, variable in expected:
        text = text.replace("{tmp}", str(tmp_path))
        matching = [p for p in config.problems if text in p]
        assert matching, f"no problem says {text!r}: {config.problems}"
        assert key in matching[0] and variable in matching[0], matching[0]
    assert len(config.problems) == len(expected), config.problems
    assert FAKE_SECRET not in _text(config)
    assert config.problems[0] in config.summary()


def test_unparseable_instagram_ids_are_not_also_reported_missing(env) -> None:
    # The user set instagram_account_ids, only not as JSON: the one problem is its shape.
    # (A required setting that cannot be parsed is not called "missing" either.)
    _set(env, {"SOURCES__META__INSTAGRAM_ACCOUNT_IDS": "17841, 17842",
               "SOURCES__META__ACCESS_TOKENS": f'{{"17841": "{FAKE_SECRET}"}}'})
    config = check_source("meta")
    assert config.state == INVALID
    assert any("instagram_account_ids is not a JSON list" in p and
               "SOURCES__META__INSTAGRAM_ACCOUNT_IDS" in p for p in config.problems)
    assert not [p for p in config.problems if "missing" in p], config.problems
