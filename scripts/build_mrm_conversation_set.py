"""Build the labelled MRM conversation set from its readable spec.

Reads tests/fixtures/mrm_conversations/spec.yaml (conversations between Flusstakt's two
Mastodon accounts and people, each with its ground-truth label) and writes, next to it:

* ``api/mastodon/_as/<account id>/api/v1/...``: the recorded pages the replay server
  (ingestion/demo/replay.py) answers for each owned account's token ``demo-<account id>``:
  notifications (mentions, favourites, reblogs, follows), the account's own statuses (posts,
  public replies, direct replies) and its direct-message conversations, newest first, 40 to a
  page, linked with ``Link`` headers (``max_id`` of the page's last item) as Mastodon does;
* ``labels.jsonl``: one line per conversation with the id fct_conversations gives it
  (``mastodon:<id of the person's first status>``), is_mrm, lang, category, reason, traits
  and batch (1 for the first 88 conversations; a later batch was written before the detector
  changes it is to check had scored it, see README.md).

Status ids are Mastodon snowflakes of their ``created_at`` (milliseconds << 16, low bits from
the conversation key), notification and conversation ids are per-account counters. The spec is
checked first: every message on a weekday (Mon-Fri) of 2026 before today, messages in order,
each conversation opened by the person, ids unique.

    .venv/bin/python scripts/build_mrm_conversation_set.py          # write the files
    .venv/bin/python scripts/build_mrm_conversation_set.py --check  # exit 1 if out of date
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
import tempfile
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SET_DIR = REPO_ROOT / "tests" / "fixtures" / "mrm_conversations"
PAGE_SIZE = 40
NOTIFICATION_BASE = 73_410_000
CONVERSATION_BASE = 5_120_000
ACCOUNT_CREATED = "2023-03-14T00:00:00.000Z"
RELATIVE = re.compile(r"^\+(?:(\d+)d\s+(\d\d):(\d\d)|(?:(\d+)h)?(?:(\d+)m)?)$")


@dataclass
class Status:
    """One status as the spec describes it, before it becomes JSON."""

    id: str
    created_at: datetime
    author: dict
    text: str
    visibility: str
    language: str | None
    in_reply_to: Status | None = None
    mentions: list[dict] = field(default_factory=list)
    owned_key: str | None = None  # the owned account that wrote it, if any


def parse_at(value: str, previous: datetime | None) -> datetime:
    """An absolute ``YYYY-MM-DD HH:MM`` (UTC) or a time relative to ``previous``."""
    value = str(value).strip()
    if not value.startswith("+"):
        return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
    if previous is None:
        raise ValueError(f"relative time {value!r} without a previous message")
    match = RELATIVE.match(value)
    if not match or not any(match.groups()):
        raise ValueError(f"cannot read time {value!r}")
    days, hour, minute, hours, minutes = match.groups()
    if days is not None:
        day = previous + timedelta(days=int(days))
        return day.replace(hour=int(hour), minute=int(minute))
    return previous + timedelta(hours=int(hours or 0), minutes=int(minutes or 0))


def snowflake(moment: datetime, salt: str) -> str:
    """A Mastodon status id of ``moment``: milliseconds since the epoch << 16, low bits
    from ``salt`` (stable when other conversations are added or moved)."""
    return str((int(moment.timestamp() * 1000) << 16) | (zlib.crc32(salt.encode()) & 0xFFFF))


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def person_account(acct: str, name: str | None) -> dict:
    """A remote account object for ``user@instance``, its id derived from the handle."""
    username, instance = acct.split("@", 1)
    seed = zlib.crc32(acct.encode())
    created = datetime(2022, 11, 1, tzinfo=UTC) + timedelta(days=seed % 900)
    return {
        "id": snowflake(created, acct),
        "username": username,
        "acct": acct,
        "display_name": name or username,
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": created.strftime("%Y-%m-%dT00:00:00.000Z"),
        "note": "",
        "url": f"https://{instance}/@{username}",
        "avatar": f"https://{instance}/avatars/{username}.png",
        "followers_count": 20 + seed % 900,
        "following_count": 40 + (seed >> 10) % 600,
        "statuses_count": 100 + (seed >> 20) % 4000,
        "last_status_at": "2026-11-27",
        "emojis": [],
        "fields": [],
    }


def owned_account(spec: dict, instance: str) -> dict:
    return {
        "id": spec["id"],
        "username": spec["key"],
        "acct": spec["key"],
        "display_name": spec["display_name"],
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": ACCOUNT_CREATED,
        "note": f"<p>{html.escape(spec['note'], quote=False)}</p>",
        "url": f"https://{instance}/@{spec['key']}",
        "avatar": f"https://{instance}/avatars/{spec['key']}.png",
        "followers_count": spec["followers"],
        "following_count": 210,
        "statuses_count": 4300,
        "last_status_at": "2026-11-27",
        "emojis": [],
        "fields": [],
    }


def mention_of(account: dict) -> dict:
    return {"id": account["id"], "username": account["username"], "url": account["url"],
            "acct": account["acct"]}


def content_html(status: Status) -> str:
    """Mastodon's HTML for a status: h-card mentions first, text escaped, paragraphs kept."""
    cards = "".join(
        f'<span class="h-card" translate="no"><a href="{m["url"]}" class="u-url mention">'
        f'@<span>{m["username"]}</span></a></span> ' for m in status.mentions)
    paragraphs = [html.escape(p, quote=False).replace("\n", "<br />")
                  for p in status.text.split("\n\n")]
    paragraphs[0] = cards + paragraphs[0]
    return "".join(f"<p>{p}</p>" for p in paragraphs)


def status_json(status: Status) -> dict:
    instance = status.author["url"].split("/")[2]
    username = status.author["username"]
    reply = status.in_reply_to
    body = {
        "id": status.id,
        "created_at": iso(status.created_at),
        "in_reply_to_id": reply.id if reply else None,
        "in_reply_to_account_id": reply.author["id"] if reply else None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": status.visibility,
        "language": status.language,
        "uri": f"https://{instance}/users/{username}/statuses/{status.id}",
        "url": f"https://{instance}/@{username}/{status.id}",
        "replies_count": 0,
        "reblogs_count": 0,
        "favourites_count": 0,
        "edited_at": None,
        "content": content_html(status),
        "reblog": None,
        "application": {"name": "Web", "website": None} if status.owned_key else None,
        "account": status.author,
        "media_attachments": [],
        "mentions": status.mentions,
        "tags": [],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    return body


class SpecError(ValueError):
    """The spec breaks one of its rules."""


def build(spec: dict, today: datetime) -> tuple[dict[Path, dict], list[dict]]:
    """The recorded pages (relative path -> envelope) and the label rows of ``spec``."""
    instance = spec["brand"]["instance"]
    owned = {a["key"]: owned_account(a, instance) for a in spec["brand"]["accounts"]}
    people = spec.get("people", {})
    persons: dict[str, dict] = {}

    def person(acct: str) -> dict:
        if acct not in persons:
            persons[acct] = person_account(acct, people.get(acct))
        return persons[acct]

    statuses: list[Status] = []
    seen_ids: dict[str, str] = {}

    def add(status: Status, where: str) -> Status:
        if status.id in seen_ids:
            raise SpecError(f"{where}: status id {status.id} also used by {seen_ids[status.id]}")
        seen_ids[status.id] = where
        check_day(status.created_at, where, today)
        statuses.append(status)
        return status

    posts: dict[str, Status] = {}
    for post in spec.get("posts", []):
        at = parse_at(post["at"], None)
        posts[post["key"]] = add(Status(snowflake(at, f"post/{post['key']}"), at,
                                        owned[post["account"]], post["text"].strip(),
                                        "public", post["lang"], owned_key=post["account"]),
                                 f"post {post['key']}")

    labels, by_key = [], {}
    dm_threads: dict[str, list[tuple[str, list[Status]]]] = {k: [] for k in owned}
    for conv in spec["conversations"]:
        key = conv["key"]
        if key in by_key:
            raise SpecError(f"{key}: duplicate key")
        for name in ("lang", "account", "medium", "person", "is_mrm", "category", "reason"):
            if name not in conv:
                raise SpecError(f"{key}: no {name}")
        if conv["lang"] not in ("en", "de") or conv["medium"] not in ("public", "direct"):
            raise SpecError(f"{key}: lang must be en|de and medium public|direct")
        if conv["account"] not in owned:
            raise SpecError(f"{key}: unknown account {conv['account']}")
        who = person(conv["person"])
        visibility = conv["medium"]
        person_lang = conv["status_lang"] if "status_lang" in conv else conv["lang"]
        parent = posts[conv["under"]] if conv.get("under") else None
        if parent is not None and visibility == "direct":
            raise SpecError(f"{key}: a direct conversation cannot reply to a public post")
        addressed = [owned[conv["account"]]]  # owned accounts the person's statuses mention
        thread: list[Status] = []
        previous_at = None
        if conv["messages"][0]["by"] != "person":
            raise SpecError(f"{key}: the person must open the conversation")
        for index, message in enumerate(conv["messages"]):
            at = parse_at(message["at"], previous_at)
            if previous_at is not None and at <= previous_at:
                raise SpecError(f"{key}: message {index} is not after the one before")
            previous_at = at
            sid = snowflake(at, f"{key}/{index}")
            if message["by"] == "person":
                if parent is not None and parent.owned_key and owned[parent.owned_key] \
                        not in addressed:
                    addressed.append(owned[parent.owned_key])
                mentions = [mention_of(a) for a in addressed]
                status = Status(sid, at, who, message["text"].strip(), visibility,
                                person_lang, parent, mentions)
            else:
                if message["by"] not in owned:
                    raise SpecError(f"{key}: unknown author {message['by']}")
                author = owned[message["by"]]
                if author not in addressed:
                    addressed.append(author)  # the person's answers mention it too
                status = Status(sid, at, author, message["text"].strip(), visibility,
                                conv.get("brand_lang", conv["lang"]), parent,
                                [mention_of(who)], owned_key=message["by"])
            add(status, f"{key} message {index}")
            thread.append(status)
            parent = status
        first = thread[0]
        by_key[key] = thread
        if visibility == "direct":
            dm_threads[conv["account"]].append((key, thread))
        labels.append({
            "conversation_id": f"mastodon:{first.id}",
            "key": key,
            "is_mrm": bool(conv["is_mrm"]),
            "lang": conv["lang"],
            "category": conv["category"],
            "reason": conv["reason"],
            "traits": conv.get("traits", []),
            "batch": int(conv.get("batch", 1)),
            "account": conv["account"],
            "medium": conv["medium"],
            "started_at": iso(first.created_at),
            "messages": len(thread),
            "brand_replied": any(s.owned_key for s in thread),
        })

    # notifications: a mention per owned account a person's status mentions, and reactions
    notes: dict[str, list[tuple[datetime, str, dict]]] = {k: [] for k in owned}
    owned_by_id = {a["id"]: k for k, a in owned.items()}
    for status in statuses:
        if status.owned_key:
            continue
        for mention in status.mentions:
            account_key = owned_by_id.get(mention["id"])
            if account_key:
                notes[account_key].append((status.created_at, "mention", {
                    "account": status.author, "status": status_json(status)}))
    for reaction in spec.get("reactions", []):
        at = parse_at(reaction["at"], None)
        check_day(at, f"reaction {reaction}", today)
        actor = person(reaction["person"])
        if reaction["type"] == "follow":
            notes[reaction["account"]].append((at, "follow", {"account": actor}))
            continue
        target = (posts[reaction["post"]] if "post" in reaction
                  else by_key[reaction["conversation"]][reaction["message"]])
        if not target.owned_key:
            raise SpecError(f"reaction {reaction}: only owned statuses notify their account")
        notes[target.owned_key].append((at, reaction["type"], {
            "account": actor, "status": status_json(target)}))

    pages: dict[Path, dict] = {}
    for account_key, account in owned.items():
        root = Path("mastodon") / "_as" / account["id"] / "api" / "v1"
        ordered = sorted(notes[account_key], key=lambda n: n[0])
        items = [{"id": str(NOTIFICATION_BASE + n), "type": kind, "created_at": iso(at), **rest}
                 for n, (at, kind, rest) in enumerate(ordered, start=1)]
        pages.update(paged(root / "notifications", "api/v1/notifications", items[::-1],
                           lambda i: i["id"]))
        own = sorted((s for s in statuses if s.owned_key == account_key),
                     key=lambda s: int(s.id), reverse=True)
        pages.update(paged(root / "accounts" / account["id"] / "statuses",
                           f"api/v1/accounts/{account['id']}/statuses",
                           [status_json(s) for s in own], lambda i: i["id"]))
        threads = sorted(dm_threads[account_key], key=lambda t: int(t[1][-1].id))
        conversations = [{
            "id": str(CONVERSATION_BASE + n),
            "unread": False,
            "accounts": [thread[0].author],
            "last_status": status_json(thread[-1]),
        } for n, (_, thread) in enumerate(threads, start=1)][::-1]
        pages.update(paged(root / "conversations", "api/v1/conversations", conversations,
                           lambda i: i["last_status"]["id"]))
    return pages, labels


def check_day(moment: datetime, where: str, today: datetime) -> None:
    if moment.year != 2026 or moment.weekday() >= 5 or moment >= today:
        raise SpecError(f"{where}: {iso(moment)} is not a past weekday of 2026")


def paged(folder: Path, endpoint: str, items: list[dict], position) -> dict[Path, dict]:
    """Newest-first ``items`` as Mastodon pages: first.json, then one file per ``max_id``."""
    pages = {}
    chunks = [items[i:i + PAGE_SIZE] for i in range(0, len(items), PAGE_SIZE)] or [[]]
    name = "first"
    for n, chunk in enumerate(chunks):
        links = []
        if n + 1 < len(chunks):
            links.append(f'<{{{{BASE}}}}/{endpoint}?max_id={position(chunk[-1])}>; rel="next"')
        if chunk:
            links.append(f'<{{{{BASE}}}}/{endpoint}?min_id={position(chunk[0])}>; rel="prev"')
        envelope = {"status": 200, "headers": {"Link": ", ".join(links)} if links else {},
                    "body": chunk}
        pages[folder / f"{name}.json"] = envelope
        if chunk:
            name = position(chunk[-1])
    return pages


def write(set_dir: Path, pages: dict[Path, dict], labels: list[dict]) -> None:
    api = set_dir / "api"
    if api.exists():
        shutil.rmtree(api)
    for path, envelope in sorted(pages.items()):
        target = api / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(envelope, ensure_ascii=False, indent=1) + "\n",
                          encoding="utf-8")
    (set_dir / "labels.jsonl").write_text(
        "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in labels), encoding="utf-8")


def snapshot(set_dir: Path) -> dict[str, bytes]:
    files = [*sorted((set_dir / "api").rglob("*.json")), set_dir / "labels.jsonl"]
    return {str(p.relative_to(set_dir)): p.read_bytes() for p in files if p.exists()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=SET_DIR, help="the set's folder")
    parser.add_argument("--check", action="store_true",
                        help="only check that the written files match the spec")
    parser.add_argument("--today", default="2026-12-01",
                        help="messages must be before this day (default 2026-12-01)")
    args = parser.parse_args(argv)
    spec = yaml.safe_load((args.dir / "spec.yaml").read_text(encoding="utf-8"))
    today = datetime.strptime(args.today, "%Y-%m-%d").replace(tzinfo=UTC)
    try:
        pages, labels = build(spec, today)
    except SpecError as error:
        print(f"spec.yaml: {error}", file=sys.stderr)
        return 2
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            write(Path(scratch), pages, labels)
            if snapshot(Path(scratch)) != snapshot(args.dir):
                print("the recorded pages or labels.jsonl are out of date with spec.yaml; run "
                      "scripts/build_mrm_conversation_set.py", file=sys.stderr)
                return 1
        return 0
    write(args.dir, pages, labels)
    counts: dict[tuple[str, bool], int] = {}
    for row in labels:
        counts[row["lang"], row["is_mrm"]] = counts.get((row["lang"], row["is_mrm"]), 0) + 1
    print(f"{len(labels)} conversations, {len(pages)} pages; " + ", ".join(
        f"{lang} {'MRM' if mrm else 'not'} {n}" for (lang, mrm), n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
