"""Which sources a team has set up, checked before a night starts.

A source is switched on by its settings: one with none of them set is *not configured* and is
skipped for the night (its raw tables are still created empty, so the dbt project builds). One
with some of them set must have all it needs, in a usable form: otherwise it is *invalid*, and
the night refuses to start, naming every problem with its ``.dlt`` key and environment
variable. Values are read the way dlt reads them (environment variables first, then
``.dlt/secrets.toml`` and ``.dlt/config.toml``), so the check sees what the sources will see.
Secret values are never shown.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import dlt
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException

# The checks the sources apply themselves before a value goes into a URL path: ids are digits
# within 64 bits on X, Graph and Mastodon; a hashtag is letters, digits and underscores.
from ingestion.sources.rest import is_hashtag, is_path_id

NOT_CONFIGURED = "not configured"
CONFIGURED = "configured"
INVALID = "invalid"

# Bucket schemes the file sources can read with what the project installs.
BUCKET_SCHEMES = ("file", "s3")


@dataclass(frozen=True)
class Setting:
    """One setting of a source: its name under ``[sources.<source>]``, whether it is a secret,
    the type dlt parses it as, and whether the source needs it."""

    name: str
    kind: type = str
    secret: bool = False
    required: bool = True


def env_var(source: str, setting: str) -> str:
    """The environment variable dlt reads for ``sources.<source>.<setting>``."""
    return f"SOURCES__{source.upper()}__{setting.upper().replace('.', '__')}"


def where(source: str, setting: str, secret: bool = False) -> str:
    """How to set a setting: its toml key and file, and its environment variable."""
    toml = ".dlt/secrets.toml" if secret else ".dlt/config.toml"
    return f"[sources.{source}] {setting} in {toml} or {env_var(source, setting)}"


# What each source reads. Optional settings switch a source on as well when set (a team that
# set only a search query meant to use X), and are checked like the others.
SETTINGS: dict[str, tuple[Setting, ...]] = {
    "x": (Setting("account_ids", list), Setting("bearer_token", secret=True),
          Setting("base_url", required=False), Setting("search_query", required=False),
          Setting("user_tokens", dict, secret=True, required=False)),
    "meta": (Setting("page_ids", list, required=False),
             Setting("instagram_account_ids", list, required=False),
             Setting("access_tokens", dict, secret=True), Setting("base_url", required=False)),
    "mastodon": (Setting("base_url"), Setting("account_ids", list),
                 Setting("access_tokens", dict, secret=True),
                 Setting("hashtags", list, required=False)),
    "inbox": (Setting("bucket_url"), Setting("file_glob", required=False)),
    "crm": (Setting("bucket_url"),),
}


@dataclass
class SourceConfig:
    """The state of one source's configuration and what is wrong with it."""

    source: str
    state: str
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def configured(self) -> bool:
        return self.state == CONFIGURED

    def summary(self) -> str:
        """One line: the state, and the first problem or note."""
        detail = self.problems or self.notes
        return f"{self.source}: {self.state}" + (f" ({detail[0]})" if detail else "")


_SHAPES = {list: 'a JSON list, e.g. ["1", "2"]', dict: 'a JSON object, e.g. {"1": "..."}'}


def _read(source: str, setting: Setting) -> tuple[Any, str | None]:
    """The value (None when unset or empty) and the problem when it cannot be parsed."""
    accessor = dlt.secrets if setting.secret else dlt.config
    try:
        value = accessor.get(f"sources.{source}.{setting.name}", setting.kind)
    except ConfigValueCannotBeCoercedException:
        return None, (f"{setting.name} is not {_SHAPES.get(setting.kind, 'text')}: "
                      f"{where(source, setting.name, setting.secret)}")
    return (None if value in (None, "", [], {}) else value), None


def check_source(source: str) -> SourceConfig:
    """The configuration state of one source (see the module docstring)."""
    read = {s.name: _read(source, s) for s in SETTINGS[source]}
    values = {name: value for name, (value, _) in read.items()}
    problems = [problem for _, problem in read.values() if problem]
    if not problems and all(v is None for v in values.values()):
        return SourceConfig(source, NOT_CONFIGURED,
                            notes=[f"to use it, set {_hint(source)}"])
    for setting in SETTINGS[source]:
        if setting.required and values[setting.name] is None and not read[setting.name][1]:
            problems.append(f"missing {setting.name}: "
                            f"{where(source, setting.name, setting.secret)}")
    notes: list[str] = []
    # a setting that could not be parsed is reported once, not also judged as absent
    unreadable = {name for name, (_, problem) in read.items() if problem}
    problems += _VALUE_CHECKS[source](values, notes, unreadable)
    return SourceConfig(source, INVALID if problems else CONFIGURED, problems, notes)


def _hint(source: str) -> str:
    setting = SETTINGS[source][0]  # the setting that names the accounts or the bucket
    return where(source, setting.name, setting.secret)


def check_sources(names: list[str] | None = None) -> dict[str, SourceConfig]:
    """The state of every source (or of ``names``), by name."""
    from ingestion.pipelines import SOURCES

    return {name: check_source(name) for name in (names or list(SOURCES))}


# --- value checks per source -------------------------------------------------------------

# (values, notes to add to, names of the settings that could not be parsed) -> problems
ValueCheck = Callable[[dict[str, Any], list[str], set[str]], list[str]]


def _ids(source: str, name: str, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        return [f"{name} must be a non-empty list of ids: {where(source, name)}"]
    bad = [str(v) for v in value if not is_path_id(v)]
    if bad:
        return [f"{name} holds {len(bad)} value(s) that are not numeric ids within 64 bits "
                f"(e.g. {bad[0][:40]!r}): {where(source, name)}"]
    return []


def _tokens(source: str, name: str, tokens: Any, ids: list[str], what: str) -> list[str]:
    if tokens is None:
        return []
    if not isinstance(tokens, Mapping):
        return [f"{name} must map each account id to its token: {where(source, name, True)}"]
    missing = [i for i in ids if not tokens.get(str(i))]
    return [f"{name} has no token for account {i} ({what}): "
            f"{where(source, f'{name}.{i}', True)}" for i in missing]


def _url(source: str, name: str, value: Any) -> list[str]:
    if value is None:
        return []
    parts = urlsplit(str(value))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [f"{name} {str(value)[:80]!r} is not an http(s) URL: {where(source, name)}"]
    if parts.query or parts.fragment:
        return [f"{name} must not carry a query or fragment: {where(source, name)}"]
    return []


def _x(values: dict[str, Any], notes: list[str], unreadable: set[str]) -> list[str]:
    ids = [str(i) for i in values["account_ids"] or []]
    problems = _ids("x", "account_ids", values["account_ids"]) + _url("x", "base_url",
                                                                      values["base_url"])
    if values["user_tokens"] is None and "user_tokens" not in unreadable:
        notes.append("no user_tokens: direct messages are not read")
    problems += _tokens("x", "user_tokens", values["user_tokens"], ids, "its direct messages")
    if values["search_query"] is None and "search_query" not in unreadable:
        notes.append("no search_query: keyword search is not read")
    return problems


def _meta(values: dict[str, Any], notes: list[str], unreadable: set[str]) -> list[str]:
    problems = (_ids("meta", "page_ids", values["page_ids"])
                + _ids("meta", "instagram_account_ids", values["instagram_account_ids"])
                + _url("meta", "base_url", values["base_url"]))
    ids = [str(i) for i in (values["page_ids"] or []) + (values["instagram_account_ids"] or [])]
    if not ids and not unreadable & {"page_ids", "instagram_account_ids"}:
        problems.append(f"missing page_ids or instagram_account_ids (at least one account): "
                        f"{where('meta', 'page_ids')}")
    problems += _tokens("meta", "access_tokens", values["access_tokens"], ids, "reading it")
    return problems


def _mastodon(values: dict[str, Any], notes: list[str], unreadable: set[str]) -> list[str]:
    ids = [str(i) for i in values["account_ids"] or []]
    problems = (_ids("mastodon", "account_ids", values["account_ids"])
                + _url("mastodon", "base_url", values["base_url"])
                + _tokens("mastodon", "access_tokens", values["access_tokens"], ids,
                          "reading it"))
    hashtags = values["hashtags"]
    if "hashtags" in unreadable:
        pass  # reported as unparseable already
    elif hashtags is None:
        notes.append("no hashtags: no hashtag timeline is read")
    elif not isinstance(hashtags, list):
        problems.append(f"hashtags must be a list: {where('mastodon', 'hashtags')}")
    else:
        bad = [str(h) for h in hashtags if not is_hashtag(h)]
        if bad:
            problems.append(f"hashtags must be letters, digits and underscores without '#' "
                            f"(e.g. {bad[0][:40]!r}): {where('mastodon', 'hashtags')}")
    return problems


def _bucket(source: str) -> ValueCheck:
    def check(values: dict[str, Any], notes: list[str], unreadable: set[str]) -> list[str]:
        url = values["bucket_url"]
        if url is None:
            return []
        parts = urlsplit(str(url))
        if parts.scheme not in BUCKET_SCHEMES:
            return [f"bucket_url {str(url)[:80]!r} must start with "
                    f"{' or '.join(s + '://' for s in BUCKET_SCHEMES)}: "
                    f"{where(source, 'bucket_url')}"]
        if parts.scheme == "file":
            folder = Path(unquote(parts.path))
            if not folder.is_dir():
                return [f"bucket_url folder {folder} does not exist: "
                        f"{where(source, 'bucket_url')}"]
        return []

    return check


_VALUE_CHECKS: dict[str, ValueCheck] = {
    "x": _x, "meta": _meta, "mastodon": _mastodon, "inbox": _bucket("inbox"),
    "crm": _bucket("crm"),
}
