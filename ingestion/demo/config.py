"""Settings that point every source at the demo: the replay server and the export folders."""

from __future__ import annotations

import json
from pathlib import Path

from ingestion.demo import brand as B
from ingestion.demo.replay import TOKEN_PREFIX


def _ids(platform: str) -> list[str]:
    return [a.account_id for a in B.accounts(platform)]


def demo_environment(payloads: Path, replay_url: str) -> dict[str, str]:
    """Environment variables (dlt's config names) for running every source on demo data."""
    token = {a.account_id: f"{TOKEN_PREFIX}{a.account_id}" for a in B.OWNED_ACCOUNTS}
    meta_ids = _ids("facebook") + _ids("instagram")
    return {
        # the demo may use the demo's public contact-key salt (orchestration.preflight)
        "RAPPORT_DEMO": "1",
        "SOURCES__X__BASE_URL": f"{replay_url}/x",
        "SOURCES__X__ACCOUNT_IDS": json.dumps(_ids("x")),
        "SOURCES__X__SEARCH_QUERY": B.SEARCH_QUERY,
        "SOURCES__X__BEARER_TOKEN": f"{TOKEN_PREFIX}app",
        "SOURCES__X__USER_TOKENS": json.dumps({i: token[i] for i in _ids("x")}),
        "SOURCES__META__BASE_URL": f"{replay_url}/meta",
        "SOURCES__META__PAGE_IDS": json.dumps(_ids("facebook")),
        "SOURCES__META__INSTAGRAM_ACCOUNT_IDS": json.dumps(_ids("instagram")),
        "SOURCES__META__ACCESS_TOKENS": json.dumps({i: token[i] for i in meta_ids}),
        "SOURCES__MASTODON__BASE_URL": f"{replay_url}/mastodon",
        "SOURCES__MASTODON__ACCOUNT_IDS": json.dumps(_ids("mastodon")),
        "SOURCES__MASTODON__HASHTAGS": json.dumps([B.CHAT_HASHTAG]),
        "SOURCES__MASTODON__ACCESS_TOKENS": json.dumps({i: token[i] for i in _ids("mastodon")}),
        "SOURCES__INBOX__BUCKET_URL": (Path(payloads) / "inbox").resolve().as_uri(),
        "SOURCES__CRM__BUCKET_URL": (Path(payloads) / "crm").resolve().as_uri(),
    }
