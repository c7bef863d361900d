"""Deterministic demo data: API-shaped payloads, inbox and CRM exports, and ground truth.

The generator plays scripted stories (questions answered and thanked, complaints turned into
fans or left to rot, advocates, punks, observers, panicked users, giveaway spam, a brand
hashtag chat, competitor mentions, an outage that becomes a shitstorm, agents who tag some
true MRMs and miss others, CRM stage moves) and writes what the platforms' APIs would return.

Output layout (``out`` is the demo directory)::

    out/payloads/{x,meta,mastodon}/...   recorded API pages, served by ``ingestion.demo.replay``
    out/payloads/inbox/*.csv             social inbox exports, one file per day
    out/payloads/crm/*.csv|*.jsonl       CRM contacts, lifecycle stages, leads and conversions
    out/ground_truth/                    what really happened; never read by the pipelines

Holding back the last days (``generate(..., hold_back_days=K)``) writes the payloads as the
platforms would have answered before those days: every item, export row and CRM change from
``cut`` on is left out, where ``cut`` is midnight UTC of the K-th last day of activity
(:func:`hold_back_cut`). :func:`release_day` then makes the next held-back day visible in
place, so that incremental nights can be played one day at a time; once every day is released
the payloads are byte-identical to a generation without hold-back. The people, stories and ids
are the same either way (the random draws do not depend on what is visible), and the ground
truth always describes the whole window.

Everything streams: people are generated one at a time and pages are written as they fill, so
memory stays flat from a few thousand interactions to tens of millions.
"""

from __future__ import annotations

import filecmp
import json
import math
import os
import random
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from tqdm import tqdm

from ingestion.demo import brand as B
from ingestion.demo.payloads import PageWriter, RecordFile, write_object
from ingestion.demo.texts import PRODUCTS, TEXTS

DEFAULT_END = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
STAGES = ("subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
          "customer", "evangelist")
INBOX_COLUMNS = ["message_id", "platform", "account_id", "team", "assignee", "tags", "briefing",
                 "status", "received_at", "closed_at"]
CONVERSION_COLUMNS = ["conversion_id", "contact_id", "kind", "source", "source_platform",
                      "campaign", "occurred_at", "updated_at"]
# Where a lead or conversion that no brand reply preceded comes from.
OTHER_SOURCES = ("web", "email", "referral", "event")
CONTACT_COLUMNS = ["contact_id", "x_user_id", "facebook_user_id", "instagram_user_id",
                   "mastodon_account_id", "lifecycle_stage", "created_at", "updated_at"]
# Share of people by story; the rest of a person's behaviour is drawn inside the story.
SEGMENT_WEIGHTS = {
    "customer": 34, "complainer": 12, "advocate": 8, "punk": 5, "observer": 24,
    "panicked": 7, "spammer": 5, "competitor_fan": 5,
}
# Written beside the payloads when days are held back: what release_day needs to regenerate.
HOLD_BACK_FILE = "hold_back.json"
# Where an item's time is, by platform convention (every format starts YYYY-MM-DDTHH:MM:SS).
TIME_KEYS = ("created_at", "created_time", "timestamp", "updated_time")
# What the ground truth calls each story's person (DOMAIN.md segments; others are "none").
TRUE_SEGMENT = {"advocate": "advocate", "punk": "punk", "observer": "observer",
                "panicked": "panicked"}


@dataclass
class Turn:
    """One message of a conversation."""

    side: str  # person | brand
    intent: str
    at: datetime | None  # None: timed by the conversation from the turn before


@dataclass
class Person:
    """A member of the public, with an id on each platform they use."""

    index: int
    segment: str
    lang: str
    platforms: list[str]
    followers: int
    crm_contact_id: str | None = None

    def user_id(self, platform: str) -> str:
        base = {"x": 1_500_000_000_000_000_000, "facebook": 6_000_000_000_000_000,
                "instagram": 17_000_000_000_000_000, "mastodon": 109_000_000_000_000_000}
        return str(base[platform] + self.index)

    @property
    def handle(self) -> str:
        return f"{NAMES[self.index % len(NAMES)].lower()}_{self.index}"

    @property
    def display_name(self) -> str:
        return f"{NAMES[self.index % len(NAMES)]} {SURNAMES[(self.index // 7) % len(SURNAMES)]}"


NAMES = ["Anna", "Ben", "Clara", "David", "Emma", "Finn", "Greta", "Hugo", "Ida", "Jonas",
         "Kim", "Lea", "Mats", "Nora", "Ole", "Paula", "Quinn", "Rosa", "Sam", "Tara"]
SURNAMES = ["Adler", "Berg", "Colm", "Dorn", "Eck", "Falk", "Graf", "Horn", "Imhof", "Jung"]


@dataclass
class Summary:
    """What a generator run produced; written to ground_truth/summary.json."""

    seed: int
    target_interactions: int
    interactions: int = 0
    people: int = 0
    conversations: int = 0
    true_mrms: int = 0
    tagged_mrms_by_team: Counter = field(default_factory=Counter)
    tagged_mrms_company: int = 0
    by_platform: Counter = field(default_factory=Counter)


class _VisibleWriter:
    """A :class:`PageWriter` that leaves out items from ``cut`` on (held-back days).

    ``count`` counts every item offered, visible or not, so that ids numbered by it (Mastodon
    conversations) are the same with and without hold-back.
    """

    def __init__(self, writer: PageWriter, cut: str) -> None:
        self.writer, self.cut, self.count = writer, cut, 0

    def add(self, item: dict, include_user: dict | None = None,
            at: datetime | None = None) -> None:
        """Add ``item`` if it is from before the cut (its own time, or ``at`` if given)."""
        self.count += 1
        if at is not None:
            visible = _stamp(at) < self.cut
        else:
            when = next((item[k] for k in TIME_KEYS if k in item), None)
            visible = when is None or when[:19] < self.cut
        if visible:
            self.writer.add(item, include_user=include_user)

    def close(self) -> None:
        self.writer.close()


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


class DemoGenerator:
    """Writes one deterministic demo data set; see the module docstring.

    ``visible_until``: leave out everything from that moment on (see :func:`hold_back_cut`);
    None writes the whole window.
    """

    def __init__(self, out: Path, seed: int = 42, interactions: int = 5000, days: int = 56,
                 end: datetime = DEFAULT_END, page_size: int = 100,
                 progress: bool | None = None, visible_until: datetime | None = None) -> None:
        if interactions < 500:
            raise ValueError("interactions must be at least 500 to play every story")
        if days < 28:
            raise ValueError("days must be at least 28 (the stories need four weeks)")
        self.out = Path(out)
        self.payloads = self.out / "payloads"
        self.truth_dir = self.out / "ground_truth"
        self.rng = random.Random(seed)
        # Leads and conversions draw from their own stream, so adding them left every other
        # generated item (and the metrics measured on them) as it was.
        self.conversion_rng = random.Random(f"{seed}:conversions")
        self.end = end
        self.start = end - timedelta(days=days)
        self.days = days
        self.page_size = page_size
        self.summary = Summary(seed=seed, target_interactions=interactions)
        self.progress = progress if progress is not None else interactions >= 200_000
        self._seq = 0
        self._writers: dict[tuple, PageWriter] = {}
        self._owned_posts: dict[str, list[tuple[str, datetime, str]]] = {}
        self._inbox_files: dict[str, RecordFile] = {}
        self._messenger: dict[str, list] = {}
        # The outage: a few hours, ten days before the end, that turn into a shitstorm.
        storm_day = (end - timedelta(days=10)).replace(hour=14, minute=0, second=0, microsecond=0)
        self.storm = (storm_day, storm_day + timedelta(hours=3))
        chat_day = (end - timedelta(days=20)).replace(hour=18, minute=0, second=0, microsecond=0)
        self.chat = (chat_day, chat_day + timedelta(hours=1))
        self._bar: tqdm | None = None
        self._cut = _stamp(visible_until) if visible_until is not None else None

    def _visible(self, at: datetime) -> bool:
        return self._cut is None or _stamp(at) < self._cut

    def _page_writer(self, platform: str, path: str, style: str, namespace: str | None = None
                     ) -> PageWriter | _VisibleWriter:
        writer = PageWriter(self.payloads, platform, path, style, self.page_size, namespace)
        return writer if self._cut is None else _VisibleWriter(writer, self._cut)

    # ----------------------------------------------------------------- orchestration
    def run(self) -> Summary:
        """Generate everything; replaces whatever ``out`` held before."""
        if self.out.exists():
            shutil.rmtree(self.out)
        self.truth_dir.mkdir(parents=True)
        self._truth_conv = (self.truth_dir / "conversations.jsonl").open("w", encoding="utf-8")
        self._truth_contacts = (self.truth_dir / "contacts.jsonl").open("w", encoding="utf-8")
        self._crm_contacts = RecordFile(self.payloads / "crm" / "contacts.csv", CONTACT_COLUMNS)
        self._crm_stages = RecordFile(self.payloads / "crm" / "lifecycle_stages.jsonl",
                                      ["contact_id", "stage", "changed_at"])
        self._crm_conversions = RecordFile(self.payloads / "crm" / "conversions.csv",
                                           CONVERSION_COLUMNS)
        self._open_standard_writers()
        self._bar = tqdm(total=self.summary.target_interactions, unit=" interactions",
                         disable=not self.progress, desc="demo data")
        self._brand_posts()
        self._chat_host_post()
        index = 0
        storm_people = max(40, self.summary.target_interactions // 150)
        while self.summary.interactions < self.summary.target_interactions:
            self._person(index, storm=index < storm_people)
            index += 1
        self.summary.people = index
        self._bar.close()
        for writer in self._writers.values():
            writer.close()
        for rec in self._inbox_files.values():
            rec.close()
        self._crm_contacts.close()
        self._crm_stages.close()
        self._crm_conversions.close()
        self._truth_conv.close()
        self._truth_contacts.close()
        self._write_summary()
        return self.summary

    def _write_summary(self) -> None:
        s = self.summary
        doc = {
            "seed": s.seed,
            "window": {"start": iso_z(self.start), "end": iso_z(self.end)},
            "target_interactions": s.target_interactions,
            "interactions": s.interactions,
            "interactions_by_platform": dict(sorted(s.by_platform.items())),
            "people": s.people,
            "conversations": s.conversations,
            "true_mrms": s.true_mrms,
            "tagged_mrms_by_team": dict(sorted(s.tagged_mrms_by_team.items())),
            "tagged_mrms_company": s.tagged_mrms_company,
            "shitstorm": {"start": iso_z(self.storm[0]), "end": iso_z(self.storm[1]),
                          "platforms": ["x", "mastodon"]},
            "hashtag_chat": {"hashtag": B.CHAT_HASHTAG, "start": iso_z(self.chat[0]),
                             "end": iso_z(self.chat[1])},
            "owned_accounts": [a.__dict__ for a in B.OWNED_ACCOUNTS],
        }
        (self.truth_dir / "summary.json").write_text(json.dumps(doc, indent=2) + "\n")

    def _count(self, platform: str, n: int = 1) -> None:
        self.summary.interactions += n
        self.summary.by_platform[platform] += n
        if self._bar is not None:
            self._bar.update(n)

    def _next(self) -> int:
        self._seq += 1
        return self._seq

    def _writer(self, platform: str, path: str, style: str, namespace: str | None = None
                ) -> PageWriter:
        key = (platform, path, namespace)
        if key not in self._writers:
            self._writers[key] = self._page_writer(platform, path, style, namespace)
        return self._writers[key]

    def _open_standard_writers(self) -> None:
        # Every endpoint the sources call gets at least an empty page.
        for a in B.accounts("x"):
            self._writer("x", f"2/users/{a.account_id}/mentions", "x")
            self._writer("x", f"2/users/{a.account_id}/tweets", "x")
            self._writer("x", "2/dm_events", "x", namespace=a.account_id)
        self._writer("x", "2/tweets/search/recent", "x")
        for a in B.accounts("facebook"):
            self._writer("meta", f"{a.account_id}/feed", "graph")
            self._writer("meta", f"{a.account_id}/conversations", "graph")
            self._meta_account(a)
        for a in B.accounts("instagram"):
            self._writer("meta", f"{a.account_id}/media", "graph")
            self._meta_account(a)
        for a in B.accounts("mastodon"):
            self._writer("mastodon", "api/v1/notifications", "mastodon", namespace=a.account_id)
            self._writer("mastodon", f"api/v1/accounts/{a.account_id}/statuses", "mastodon",
                         namespace=a.account_id)
            self._writer("mastodon", "api/v1/conversations", "mastodon", namespace=a.account_id)
        self._writer("mastodon", f"api/v1/timelines/tag/{B.CHAT_HASHTAG}", "mastodon")

    # ----------------------------------------------------------------- ids and formats
    def _snowflake(self, at: datetime, shift: int = 22, epoch_ms: int = 1288834974657) -> str:
        # The counter's low bits fill the sequence part; its high bits move the millisecond
        # on, so ids stay unique when more items share a second than the sequence part holds
        # (Mastodon's 16 bits: 65,536) - times are whole seconds, so no two seconds meet.
        ms = int(at.timestamp() * 1000) - epoch_ms
        n = self._next()
        return str(((ms + (n >> shift)) << shift) + (n & ((1 << shift) - 1)))

    def _text(self, intent: str, lang: str) -> str:
        template = self.rng.choice(TEXTS[intent][lang])
        return template.format(brand=B.BRAND, product=self.rng.choice(PRODUCTS),
                               competitor=self.rng.choice(B.COMPETITORS))

    def _when(self, earliest_day: int = 0, latest_day: int | None = None) -> datetime:
        latest = self.days - 1 if latest_day is None else latest_day
        day = self.rng.randint(earliest_day, latest)
        seconds = self.rng.randint(7 * 3600, 22 * 3600)
        return (self.start + timedelta(days=day)).replace(hour=0, minute=0, second=0) + \
            timedelta(seconds=seconds)

    # ----------------------------------------------------------------- owned content
    def _brand_posts(self) -> None:
        for account in B.OWNED_ACCOUNTS:
            every = 1.5 if account.purpose == "brand" else 4.0
            n = max(3, int(self.days / every))
            posts = []
            for i in range(n):
                at = self.start + timedelta(days=i * every, hours=self.rng.randint(8, 17))
                posts.append(self._owned_post(account, at, self._text("brand_post", "de" if i % 2
                                                                       else "en")))
            self._owned_posts[account.account_id] = posts

    def _chat_host_post(self) -> None:
        account = B.accounts("mastodon")[0]
        at = self.chat[0]
        text = f"Welcome to #{B.CHAT_HASHTAG}! Share your favourite recipe ☕"
        post_id = self._owned_post(account, at, text)[0]
        status = self._mastodon_status(post_id, self._owned_author(account), text, at,
                                       lang="en", tags=[B.CHAT_HASHTAG])
        self._writer("mastodon", f"api/v1/timelines/tag/{B.CHAT_HASHTAG}", "mastodon").add(status)

    def _owned_post(self, account: B.OwnedAccount, at: datetime, text: str
                    ) -> tuple[str, datetime, str]:
        p = account.platform
        likes = self.rng.randint(5, 400)
        if p == "x":
            post_id = self._snowflake(at)
            self._writer("x", f"2/users/{account.account_id}/tweets", "x").add({
                "id": post_id, "text": text, "author_id": account.account_id,
                "created_at": iso_ms(at), "conversation_id": post_id, "lang": "en",
                "edit_history_tweet_ids": [post_id],
                "public_metrics": {"like_count": likes, "retweet_count": likes // 10,
                                   "reply_count": likes // 20, "quote_count": likes // 50,
                                   "impression_count": likes * 40},
            }, include_user=self._owned_x_user(account))
        elif p == "facebook":
            post_id = f"{account.account_id}_{self._next()}"
            post = {
                "id": post_id, "message": text, "created_time": iso_graph(at),
                "from": {"id": account.account_id, "name": account.handle},
                "shares": {"count": likes // 10},
                "reactions": {"summary": {"total_count": likes}},
                "insights": {"impressions": likes * 35},
            }
            self._writer("meta", f"{account.account_id}/feed", "graph").add(post)
            # the post on its own (/{post-id}), re-read while its comments are followed
            if self._visible(at):
                write_object(self.payloads, "meta", post_id, post)
            self._writer("meta", f"{post_id}/comments", "graph")
        elif p == "instagram":
            post_id = str(18_000_000_000_000_000 + self._next())
            medium = {
                "id": post_id, "caption": text, "timestamp": iso_graph(at),
                "media_type": "IMAGE", "like_count": likes, "comments_count": likes // 20,
                "username": account.handle, "owner": {"id": account.account_id},
            }
            self._writer("meta", f"{account.account_id}/media", "graph").add(medium)
            if self._visible(at):
                write_object(self.payloads, "meta", post_id, medium)
            self._writer("meta", f"{post_id}/comments", "graph")
        else:
            post_id = self._snowflake(at, shift=16, epoch_ms=0)
            self._writer("mastodon", f"api/v1/accounts/{account.account_id}/statuses", "mastodon",
                         namespace=account.account_id).add(
                self._mastodon_status(post_id, self._owned_author(account), text, at, "en",
                                      counts=(likes, likes // 10)))
        self._count(p)
        return post_id, at, text

    def _owned_x_user(self, account: B.OwnedAccount) -> dict:
        return {"id": account.account_id, "username": account.handle, "name": B.BRAND,
                "public_metrics": {"followers_count": 52000 if account.purpose == "brand"
                                   else 8100, "following_count": 120, "tweet_count": 9000,
                                   "listed_count": 80}}

    def _meta_account(self, account: B.OwnedAccount) -> None:
        # The Graph object of an owned Page or Instagram account, as the accounts resource
        # asks for it (/{id}?fields=...): the audience counts the engagement rate falls back on.
        brand = account.purpose == "brand"
        if account.platform == "facebook":
            body = {"id": account.account_id, "name": account.handle,
                    "followers_count": 31000 if brand else 4300,
                    "fan_count": 29500 if brand else 4100}
        else:
            body = {"id": account.account_id, "username": account.handle,
                    "followers_count": 18500 if brand else 2600,
                    "follows_count": 150 if brand else 40,
                    "media_count": 640 if brand else 90}
        write_object(self.payloads, "meta", account.account_id, body)

    def _owned_author(self, account: B.OwnedAccount) -> dict:
        return {"id": account.account_id, "username": account.handle,
                "acct": account.handle, "display_name": B.BRAND,
                "followers_count": 12000 if account.purpose == "brand" else 2100,
                "following_count": 50, "statuses_count": 800,
                "url": f"https://{B.MASTODON_INSTANCE}/@{account.handle}"}

    def _person_author(self, person: Person) -> dict:
        return {"id": person.user_id("mastodon"), "username": person.handle,
                "acct": f"{person.handle}@{B.MASTODON_INSTANCE}",
                "display_name": person.display_name, "followers_count": person.followers,
                "following_count": 80, "statuses_count": 300,
                "url": f"https://{B.MASTODON_INSTANCE}/@{person.handle}"}

    def _mastodon_status(self, status_id: str, author: dict, text: str, at: datetime, lang: str,
                         in_reply_to: tuple[str, str] | None = None, visibility: str = "public",
                         mention: B.OwnedAccount | None = None, tags: list[str] | None = None,
                         counts: tuple[int, int] = (0, 0)) -> dict:
        html = escape_html(text)
        if mention is not None:
            html = (f'<span class="h-card"><a href="https://{B.MASTODON_INSTANCE}/@{mention.handle}"'
                    f' class="u-url mention">@<span>{mention.handle}</span></a></span> ' + html)
        return {
            "id": status_id, "created_at": iso_ms(at),
            "in_reply_to_id": in_reply_to[0] if in_reply_to else None,
            "in_reply_to_account_id": in_reply_to[1] if in_reply_to else None,
            "visibility": visibility, "language": lang, "content": f"<p>{html}</p>",
            "url": f"https://{B.MASTODON_INSTANCE}/@{author['username']}/{status_id}",
            "favourites_count": counts[0], "reblogs_count": counts[1], "replies_count": 0,
            "account": author,
            "tags": [{"name": t} for t in (tags or [])],
        }

    # ----------------------------------------------------------------- people and stories
    def _person(self, index: int, storm: bool) -> None:
        rng = self.rng
        segment = "storm" if storm else rng.choices(list(SEGMENT_WEIGHTS),
                                                    weights=list(SEGMENT_WEIGHTS.values()))[0]
        platforms = ["x", "facebook", "instagram", "mastodon"]
        if segment in ("punk", "advocate"):
            chosen = rng.sample(platforms, 3)
        elif segment == "observer":
            chosen = ["mastodon"] + rng.sample(platforms[:3], 1)
        elif segment in ("competitor_fan", "storm"):
            chosen = ["x", "mastodon"] if segment == "storm" else ["x"]
        else:
            chosen = [rng.choice(platforms)]
        followers = int(rng.lognormvariate(5, 1.3))
        if segment == "advocate" and rng.random() < 0.3:
            followers = rng.randint(5000, 60000)
        person = Person(index, segment, rng.choice(["de", "en"]), chosen, followers)
        if segment in ("customer", "complainer", "advocate", "panicked") and rng.random() < 0.45:
            person.crm_contact_id = f"C{index:08d}"
        story = getattr(self, f"_story_{segment}")
        mrm_ends = story(person)
        self._crm(person, mrm_ends)
        self._truth_contacts.write(json.dumps({
            "person": f"P{index}", "segment": TRUE_SEGMENT.get(segment, "none"),
            "story": segment, "crm_contact_id": person.crm_contact_id,
            "ids": {p: person.user_id(p) for p in person.platforms},
            "followers": person.followers,
        }) + "\n")
        self._close_messenger_threads()

    # Each story returns the end times of the person's true MRM conversations.
    def _story_customer(self, person: Person) -> list[datetime]:
        ends = []
        for _ in range(self.rng.choice([1, 1, 2])):
            roll = self.rng.random()
            answered = roll < 0.85
            closing = "delighted" if roll < 0.18 else ("thanks" if roll < 0.7 else None)
            turns = [Turn("person", "question", self._when(0, self.days - 3))]
            if answered:
                turns.append(Turn("brand", "brand_answer", turns[0].at))
                if closing:
                    turns.append(Turn("person", closing, turns[0].at))
            is_mrm = answered and closing == "delighted"
            end = self._conversation(person, turns, story="question_answered" if answered
                                     else "question_unanswered", true_mrm=is_mrm)
            if is_mrm:
                ends.append(end)
        return ends

    def _story_complainer(self, person: Person) -> list[datetime]:
        start = self._when(0, self.days - 8)
        if self.rng.random() < 0.55:
            turns = [Turn("person", "complaint", start), Turn("brand", "brand_apology", start),
                     Turn("person", "delighted", start)]
            end = self._conversation(person, turns, story="complaint_turned_fan", true_mrm=True)
            if "x" in person.platforms or self.rng.random() < 0.5:
                self._keyword_post(person, "praise", end + timedelta(days=self.rng.randint(1, 5)))
            return [end]
        turns = [Turn("person", "complaint", start), Turn("person", "followup_angry", start)]
        end = self._conversation(person, turns, story="complaint_left_to_rot", true_mrm=False)
        self._keyword_post(person, "rant", end + timedelta(days=self.rng.randint(1, 4)))
        return []

    def _story_advocate(self, person: Person) -> list[datetime]:
        for _ in range(self.rng.randint(3, 6)):
            self._keyword_post(person, "praise", self._when())
        if "mastodon" in person.platforms:
            for _ in range(self.rng.randint(2, 5)):
                self._reaction(person, self.rng.choice(["favourite", "reblog"]))
        self._chat_message(person)
        turns = [Turn("person", "question", self._when(0, self.days - 3)),
                 Turn("brand", "brand_answer", None), Turn("person", "thanks", None)]
        self._conversation(person, turns, story="advocate_question", true_mrm=False)
        return []

    def _story_punk(self, person: Person) -> list[datetime]:
        for _ in range(self.rng.randint(4, 8)):
            self._keyword_post(person, "rant", self._when())
        for _ in range(self.rng.randint(1, 3)):
            at = self._when(0, self.days - 2)
            turns = [Turn("person", "rant", at)]
            if self.rng.random() < 0.3:
                turns += [Turn("brand", "brand_apology", None),
                          Turn("person", "followup_angry", None)]
            self._conversation(person, turns, story="punk_rant", true_mrm=False)
        return []

    def _story_observer(self, person: Person) -> list[datetime]:
        for _ in range(self.rng.randint(2, 6)):
            self._reaction(person, self.rng.choice(["favourite", "favourite", "reblog", "follow"]))
        if self.rng.random() < 0.3:
            other = [p for p in person.platforms if p != "mastodon"] or ["x"]
            turns = [Turn("person", "neutral", self._when())]
            self._conversation(person, turns, story="observer_comment", true_mrm=False,
                               platform=other[0], channel="public")
        return []

    def _story_panicked(self, person: Person) -> list[datetime]:
        start = self._when(0, self.days - 3)
        turns = [Turn("person", "urgent", start), Turn("person", "urgent", start),
                 Turn("brand", "brand_calm", None)]
        calmed = self.rng.random() < 0.6
        turns.append(Turn("person", "relieved" if calmed else "followup_angry", None))
        end = self._conversation(person, turns, story="panicked_calmed" if calmed
                                 else "panicked_unsettled", true_mrm=calmed, fast=True)
        return [end] if calmed else []

    def _story_spammer(self, person: Person) -> list[datetime]:
        for _ in range(self.rng.randint(1, 3)):
            turns = [Turn("person", "spam", self._when())]
            self._conversation(person, turns, story="giveaway_spam", true_mrm=False,
                               channel="public")
        return []

    def _story_competitor_fan(self, person: Person) -> list[datetime]:
        for _ in range(self.rng.randint(1, 4)):
            self._keyword_post(person, "competitor", self._when())
        return []

    def _story_storm(self, person: Person) -> list[datetime]:
        lo, hi = self.storm
        for _ in range(self.rng.choice([1, 1, 2])):
            at = lo + timedelta(seconds=self.rng.randint(0, int((hi - lo).total_seconds())))
            turns = [Turn("person", "outage", at)]
            if self.rng.random() < 0.2:
                turns.append(Turn("brand", "brand_apology", None))
            self._conversation(person, turns, story="outage_shitstorm", true_mrm=False,
                               channel="public")
        return []

    # ----------------------------------------------------------------- conversations
    def _conversation(self, person: Person, turns: list[Turn], story: str, true_mrm: bool,
                      platform: str | None = None, channel: str | None = None,
                      fast: bool = False) -> datetime:
        """Render one conversation between the brand and ``person`` on one platform."""
        rng = self.rng
        platform = platform or rng.choice(person.platforms)
        if channel is None:
            channel = "dm" if platform != "instagram" and rng.random() < 0.3 else "public"
        account = rng.choice(B.accounts(platform)) if story != "outage_shitstorm" else \
            B.accounts(platform)[0]
        if story.startswith("complaint") or story.startswith("question") or fast:
            account = B.accounts(platform)[1] if rng.random() < 0.7 else account
        # Timing: a help account answers in minutes to hours, a brand account in hours.
        at = turns[0].at
        for i, turn in enumerate(turns):
            if i == 0:
                continue
            if turn.side == "brand":
                scale = 0.4 if fast else (0.8 if account.purpose == "help" else 6.0)
                at = at + timedelta(hours=min(rng.lognormvariate(math.log(scale), 0.9), 96))
            else:
                at = at + timedelta(minutes=rng.randint(2, 30) if turns[i - 1].side == "person"
                                    else rng.randint(10, 240))
            turn.at = at
        renderer = getattr(self, f"_render_{platform}")
        message_ids = renderer(person, account, channel, turns)
        self._count(platform, len(turns))
        self._inbox(person, account, turns, message_ids, story, true_mrm)
        self.summary.conversations += 1
        self.summary.true_mrms += int(true_mrm)
        return turns[-1].at

    def _inbox(self, person: Person, account: B.OwnedAccount, turns: list[Turn],
               message_ids: list[str], story: str, true_mrm: bool) -> None:
        """Inbox export rows for the inbound messages; agents tag some MRMs, miss others."""
        rng = self.rng
        answered = any(t.side == "brand" for t in turns)
        tags: list[str] = []
        if answered and (true_mrm and rng.random() < 0.7 or not true_mrm and rng.random() < 0.03):
            roll = rng.random()
            if roll < 0.05:
                tags = [B.COMPANY_MRM_TAG]
            else:
                tags = [B.TEAM_MRM_TAGS[account.team]]
                if roll < 0.5:
                    tags.append(B.COMPANY_MRM_TAG)
        inbound = [(t, m) for t, m in zip(turns, message_ids, strict=True) if t.side == "person"]
        last_out = max((t.at for t in turns if t.side == "brand"), default=None)
        assignee = rng.choice(B.AGENTS[account.team])
        for i, (turn, message_id) in enumerate(inbound):
            is_last = i == len(inbound) - 1
            if not self._visible(turn.at):
                continue  # held back: its day's export comes with that day
            day = turn.at.strftime("%Y-%m-%d")
            if day not in self._inbox_files:
                self._inbox_files[day] = RecordFile(
                    self.payloads / "inbox" / f"inbox_export_{day}.csv", INBOX_COLUMNS)
            self._inbox_files[day].write({
                "message_id": message_id, "platform": account.platform,
                "account_id": account.account_id, "team": account.team,
                "assignee": assignee if answered else "",
                "tags": ",".join(tags) if is_last else "",
                "briefing": briefing(story, person.lang) if is_last and tags else "",
                "status": "closed" if answered else "open",
                "received_at": iso_z(turn.at),
                "closed_at": iso_z(last_out) if answered and last_out else "",
            })
        for tag in tags:
            team = next((t for t, v in B.TEAM_MRM_TAGS.items() if v == tag), None)
            if team:
                self.summary.tagged_mrms_by_team[team] += 1
        self.summary.tagged_mrms_company += int(bool(tags))
        self._truth_conv.write(json.dumps({
            "platform": account.platform, "account_id": account.account_id,
            "team": account.team, "person": f"P{person.index}",
            "person_id": person.user_id(account.platform), "first_message_id": message_ids[0],
            "started_at": iso_z(turns[0].at), "story": story, "true_mrm": true_mrm,
            "answered": answered, "tags": tags,
        }) + "\n")

    def _render_x(self, person: Person, account: B.OwnedAccount, channel: str,
                  turns: list[Turn]) -> list[str]:
        user = {"id": person.user_id("x"), "username": person.handle,
                "name": person.display_name,
                "public_metrics": {"followers_count": person.followers, "following_count": 150,
                                   "tweet_count": 1200, "listed_count": 2}}
        ids: list[str] = []
        if channel == "dm":
            pair = sorted([account.account_id, user["id"]], key=int)
            writer = self._writer("x", "2/dm_events", "x", namespace=account.account_id)
            for t in turns:
                event_id = self._snowflake(t.at)
                sender = user if t.side == "person" else self._owned_x_user(account)
                writer.add({"id": event_id, "event_type": "MessageCreate",
                            "text": self._text(t.intent, person.lang), "sender_id": sender["id"],
                            "dm_conversation_id": f"{pair[0]}-{pair[1]}",
                            "created_at": iso_ms(t.at)}, include_user=sender)
                ids.append(event_id)
            return ids
        root = None
        previous = None
        for t in turns:
            tweet_id = self._snowflake(t.at)
            root = root or tweet_id
            tweet = {"id": tweet_id, "created_at": iso_ms(t.at), "conversation_id": root,
                     "lang": person.lang, "edit_history_tweet_ids": [tweet_id],
                     "public_metrics": {"like_count": 0, "retweet_count": 0, "reply_count": 0,
                                        "quote_count": 0, "impression_count": 0}}
            if previous:
                tweet["referenced_tweets"] = [{"type": "replied_to", "id": previous}]
            if t.side == "person":
                tweet.update(author_id=user["id"],
                             text=f"@{account.handle} {self._text(t.intent, person.lang)}")
                if previous:
                    tweet["in_reply_to_user_id"] = account.account_id
                self._writer("x", f"2/users/{account.account_id}/mentions", "x").add(
                    tweet, include_user=user)
            else:
                tweet.update(author_id=account.account_id, in_reply_to_user_id=user["id"],
                             text=f"@{person.handle} {self._text(t.intent, person.lang)}")
                self._writer("x", f"2/users/{account.account_id}/tweets", "x").add(
                    tweet, include_user=self._owned_x_user(account))
            previous = tweet_id
            ids.append(tweet_id)
        return ids

    def _post_before(self, account: B.OwnedAccount, at: datetime) -> str:
        posts = [p for p, when, _ in self._owned_posts[account.account_id] if when <= at]
        return self.rng.choice(posts[-5:] or [self._owned_posts[account.account_id][0][0]])

    def _render_facebook(self, person: Person, account: B.OwnedAccount, channel: str,
                         turns: list[Turn]) -> list[str]:
        page = {"id": account.account_id, "name": account.handle}
        them = {"id": person.user_id("facebook"), "name": person.display_name}
        ids: list[str] = []
        if channel == "dm":
            # One Messenger thread per person and page, however many sessions it holds.
            thread = self._messenger.get(account.account_id)
            if thread is None:
                conv_id = f"t_{self._next()}"
                thread = [conv_id, self._page_writer("meta", f"{conv_id}/messages", "graph"),
                          None]
                self._messenger[account.account_id] = thread
            for t in turns:
                message_id = f"m_{self._next()}"
                sender, recipient = (them, page) if t.side == "person" else (page, them)
                thread[1].add({"id": message_id, "message": self._text(t.intent, person.lang),
                               "created_time": iso_graph(t.at), "from": sender,
                               "to": {"data": [recipient]}})
                ids.append(message_id)
            # the thread's last visible message dates it in the conversations list
            shown = [t.at for t in turns if self._visible(t.at)]
            if shown:
                thread[2] = max([*shown] + ([thread[2]] if thread[2] else []))
            return ids
        post_id = self._post_before(account, turns[0].at)
        writer = self._writer("meta", f"{post_id}/comments", "graph")
        top = None
        for t in turns:
            comment_id = f"{post_id.split('_')[1]}_{self._next()}"
            author = them if t.side == "person" else page
            comment = {"id": comment_id, "message": self._text(t.intent, person.lang),
                       "created_time": iso_graph(t.at), "from": author}
            if top:
                comment["parent"] = {"id": top}
            writer.add(comment)
            top = top or comment_id
            ids.append(comment_id)
        return ids

    def _close_messenger_threads(self) -> None:
        for page_id, (conv_id, writer, last) in sorted(self._messenger.items()):
            writer.close()
            if last is not None:  # None: every message of the thread is held back
                self._writer("meta", f"{page_id}/conversations", "graph").add(
                    {"id": conv_id, "updated_time": iso_graph(last)})
        self._messenger = {}

    def _render_instagram(self, person: Person, account: B.OwnedAccount, channel: str,
                          turns: list[Turn]) -> list[str]:
        media_id = self._post_before(account, turns[0].at)
        them = {"id": person.user_id("instagram"), "username": person.handle}
        mine = {"id": account.account_id, "username": account.handle}
        ids = [str(18_100_000_000_000_000 + self._next()) for _ in turns]
        replies = []
        for t, comment_id in zip(turns[1:], ids[1:], strict=True):
            author = them if t.side == "person" else mine
            reply = {"id": comment_id, "text": self._text(t.intent, person.lang),
                     "timestamp": iso_graph(t.at), "username": author["username"],
                     "from": author, "parent_id": ids[0]}
            if self._visible(t.at):  # drawn either way: the same texts with and without cut
                replies.append(reply)
        top = {"id": ids[0], "text": self._text(turns[0].intent, person.lang),
               "timestamp": iso_graph(turns[0].at), "username": person.handle, "from": them,
               "media": {"id": media_id}}
        if replies:
            top["replies"] = {"data": replies}
        self._writer("meta", f"{media_id}/comments", "graph").add(top)
        return ids

    def _render_mastodon(self, person: Person, account: B.OwnedAccount, channel: str,
                         turns: list[Turn]) -> list[str]:
        visibility = "direct" if channel == "dm" else "public"
        author = self._person_author(person)
        # A lone DM nobody answered: the agent dismissed its notification (or the account's
        # notification policy filtered it), so only the conversations list still shows it.
        notified = channel != "dm" or len(turns) > 1
        ids: list[str] = []
        previous: tuple[str, str] | None = None
        shown: tuple[dict, str] | None = None  # the last visible status, and who wrote it
        for t in turns:
            status_id = self._snowflake(t.at, shift=16, epoch_ms=0)
            text = self._text(t.intent, person.lang)
            if t.side == "person":
                status = self._mastodon_status(status_id, author, text, t.at, person.lang,
                                               in_reply_to=previous, visibility=visibility,
                                               mention=account)
                note = {"id": self._snowflake(t.at, shift=16, epoch_ms=0), "type": "mention",
                        "created_at": iso_ms(t.at), "account": author, "status": status}
                if notified:
                    self._writer("mastodon", "api/v1/notifications", "mastodon",
                                 namespace=account.account_id).add(note)
            else:
                status = self._mastodon_status(status_id, self._owned_author(account),
                                               f"@{person.handle} {text}", t.at, person.lang,
                                               in_reply_to=previous, visibility=visibility)
                status["mentions"] = [{"id": author["id"], "acct": author["acct"]}]
                self._writer("mastodon", f"api/v1/accounts/{account.account_id}/statuses",
                             "mastodon", namespace=account.account_id).add(status)
            previous = (status_id, author["id"] if t.side == "person" else account.account_id)
            ids.append(status_id)
            if self._visible(t.at):
                shown = (status, t.side)
        if channel == "dm":
            self._mastodon_conversation(account, author, shown)
        return ids

    def _mastodon_conversation(self, account: B.OwnedAccount, person: dict,
                               shown: tuple[dict, str] | None) -> None:
        """The owned account's conversation for one DM thread, as ``/api/v1/conversations``
        lists it: the other participant and the thread's last (visible) status, unread when
        the person wrote it (one thread, one conversation, since every turn replies to the one
        before). ``shown`` is None when the whole thread is held back: the conversation's
        number is used up all the same, so it keeps its id once released."""
        writer = self._writer("mastodon", "api/v1/conversations", "mastodon",
                              namespace=account.account_id)
        number = str(writer.count + 1)
        if shown is None:
            writer.count += 1
            return
        last_status, side = shown
        writer.add({"id": number, "unread": side == "person", "accounts": [person],
                    "last_status": last_status})

    # ----------------------------------------------------------------- other interactions
    def _keyword_post(self, person: Person, intent: str, at: datetime) -> None:
        """An unprompted post naming the brand (or a competitor) without addressing it."""
        if at > self.end:
            at = self.end - timedelta(hours=1)
        if "x" not in person.platforms:
            if intent == "praise" and "mastodon" in person.platforms:
                self._chat_like_status(person, intent, at)
            return
        tweet_id = self._snowflake(at)
        self._writer("x", "2/tweets/search/recent", "x").add({
            "id": tweet_id, "author_id": person.user_id("x"), "created_at": iso_ms(at),
            "conversation_id": tweet_id, "lang": person.lang,
            "text": self._text(intent, person.lang), "edit_history_tweet_ids": [tweet_id],
            "public_metrics": {"like_count": self.rng.randint(0, 30), "retweet_count": 0,
                               "reply_count": 0, "quote_count": 0, "impression_count": 0},
        }, include_user={"id": person.user_id("x"), "username": person.handle,
                         "name": person.display_name,
                         "public_metrics": {"followers_count": person.followers,
                                            "following_count": 150, "tweet_count": 1200,
                                            "listed_count": 2}})
        self._count("x")

    def _chat_like_status(self, person: Person, intent: str, at: datetime) -> None:
        status_id = self._snowflake(at, shift=16, epoch_ms=0)
        text = f"{self._text(intent, person.lang)} #{B.CHAT_HASHTAG}"
        self._writer("mastodon", f"api/v1/timelines/tag/{B.CHAT_HASHTAG}", "mastodon").add(
            self._mastodon_status(status_id, self._person_author(person), text, at, person.lang,
                                  tags=[B.CHAT_HASHTAG]))
        self._count("mastodon")

    def _chat_message(self, person: Person) -> None:
        if "mastodon" not in person.platforms:
            return
        lo, hi = self.chat
        at = lo + timedelta(seconds=self.rng.randint(0, int((hi - lo).total_seconds())))
        status_id = self._snowflake(at, shift=16, epoch_ms=0)
        self._writer("mastodon", f"api/v1/timelines/tag/{B.CHAT_HASHTAG}", "mastodon").add(
            self._mastodon_status(status_id, self._person_author(person),
                                  self._text("chat", person.lang), at, person.lang,
                                  tags=[B.CHAT_HASHTAG]))
        self._count("mastodon")

    def _reaction(self, person: Person, kind: str) -> None:
        account = self.rng.choice(B.accounts("mastodon"))
        post_id, posted, text = self.rng.choice(self._owned_posts[account.account_id])
        at = min(posted + timedelta(minutes=self.rng.randint(5, 2000)), self.end)
        note = {"id": self._snowflake(at, shift=16, epoch_ms=0), "type": kind,
                "created_at": iso_ms(at), "account": self._person_author(person)}
        if kind != "follow":
            note["status"] = self._mastodon_status(post_id, self._owned_author(account),
                                                   text, posted, "en")
        self._writer("mastodon", "api/v1/notifications", "mastodon",
                     namespace=account.account_id).add(note)
        self._count("mastodon")

    # ----------------------------------------------------------------- CRM
    def _crm(self, person: Person, mrm_ends: list[datetime]) -> None:
        if not person.crm_contact_id:
            return
        rng = self.rng
        stage = rng.randint(0, 3)
        created = self.start - timedelta(days=rng.randint(30, 400))
        history = [(STAGES[stage], created)]
        after_mrm: set[int] = set()  # positions in history of the moves an MRM preceded
        for end in mrm_ends:
            # An MRM is often followed by a journey-stage advance within days.
            if rng.random() < 0.6 and stage < len(STAGES) - 1:
                stage += 1
                after_mrm.add(len(history))
                history.append((STAGES[stage], end + timedelta(days=rng.randint(1, 10))))
        if not mrm_ends and rng.random() < 0.1 and stage < len(STAGES) - 1:
            stage += 1
            history.append((STAGES[stage], self._when()))
        # the CRM as exported before the cut knows only the moves made by then
        shown = [(name, when) for name, when in history if self._visible(min(when, self.end))]
        for name, when in shown:
            self._crm_stages.write({"contact_id": person.crm_contact_id, "stage": name,
                                    "changed_at": iso_z(min(when, self.end))})
        self._crm_leads(person, history, after_mrm)
        ids = {p: person.user_id(p) if p in person.platforms else "" for p in
               ("x", "facebook", "instagram", "mastodon")}
        self._crm_contacts.write({
            "contact_id": person.crm_contact_id, "x_user_id": ids["x"],
            "facebook_user_id": ids["facebook"], "instagram_user_id": ids["instagram"],
            "mastodon_account_id": ids["mastodon"], "lifecycle_stage": shown[-1][0],
            "created_at": iso_z(created), "updated_at": iso_z(min(shown[-1][1], self.end)),
        })


    def _crm_leads(self, person: Person, history: list[tuple[str, datetime]],
                   after_mrm: set[int]) -> None:
        """A lead when the contact first moved into a lead stage, a conversion when it became a
        customer (moves in the window only); the CRM credits social (and the platform) when
        the move followed a brand conversation."""
        rng = self.conversion_rng
        written: set[str] = set()
        for position, (stage, when) in enumerate(history):
            kind = "conversion" if stage == "customer" else "lead" if "lead" in stage else None
            if kind is None or position == 0 or kind in written:
                continue
            written.add(kind)
            social = position in after_mrm
            moment = iso_z(min(when, self.end))
            record = {
                "conversion_id": f"{person.crm_contact_id}-{kind}",
                "contact_id": person.crm_contact_id, "kind": kind,
                "source": "social" if social else rng.choice(OTHER_SOURCES),
                "source_platform": rng.choice(sorted(person.platforms)) if social else "",
                "campaign": rng.choice(("", "autumn-launch", "barista-week")),
                "occurred_at": moment, "updated_at": moment,
            }
            if self._visible(min(when, self.end)):
                self._crm_conversions.write(record)


def briefing(story: str, lang: str) -> str:
    """The short note an agent writes when tagging an MRM."""
    notes = {
        "complaint_turned_fan": "Angry about a broken machine; after our replacement offer "
                                "thanked us warmly.",
        "question_answered": "Asked how to use the machine; delighted with the answer.",
        "panicked_calmed": "Scared by an error; calmed down after our quick call-back.",
    }
    return notes.get(story, "Positive change after our reply.")


def escape_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def iso_z(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_ms(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def iso_graph(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def generate(out: Path, seed: int = 42, interactions: int = 5000, days: int = 56,
             page_size: int = 100, progress: bool | None = None,
             end: datetime = DEFAULT_END, hold_back_days: int = 0) -> Summary:
    """Write a demo data set to ``out`` covering ``days`` up to ``end``; see
    :class:`DemoGenerator`.

    ``hold_back_days``: leave the last that many days of activity out of the payloads (they
    are released one at a time by :func:`release_day`); 0 writes everything.
    """
    if not 0 <= hold_back_days < days:
        raise ValueError(f"hold_back_days must be from 0 to {days - 1} (the window has {days} "
                         f"days), not {hold_back_days}")
    settings = {"seed": seed, "interactions": interactions, "days": days,
                "page_size": page_size, "end": iso_z(end)}
    cut = hold_back_cut(end, hold_back_days) if hold_back_days else None
    summary = DemoGenerator(out, seed=seed, interactions=interactions, days=days, end=end,
                            page_size=page_size, progress=progress, visible_until=cut).run()
    if hold_back_days:
        _write_hold_back(Path(out), {**settings, "held_back_days": hold_back_days})
    return summary


def hold_back_cut(end: datetime, held_back: int) -> datetime:
    """Midnight UTC of the ``held_back``-th last day of activity: held back is everything
    from then on. Stories start on the window's days (the last is the day before ``end``'s
    date); the replies, reactions and CRM moves that follow them may come later and are
    released with the last day."""
    last_day = (end - timedelta(days=1)).date()
    return datetime.combine(last_day - timedelta(days=held_back - 1), time(0), tzinfo=UTC)


def held_back_days(out: Path) -> int:
    """How many days of the demo data set in ``out`` are still held back (0: none)."""
    path = Path(out) / HOLD_BACK_FILE
    return json.loads(path.read_text())["held_back_days"] if path.is_file() else 0


def _write_hold_back(out: Path, settings: dict) -> None:
    (out / HOLD_BACK_FILE).write_text(json.dumps(settings, indent=2) + "\n")


def release_day(out: Path, progress: bool | None = None) -> datetime | None:
    """Make the next held-back day of the demo data set in ``out`` visible, as a platform's
    API and the export drops would show it a day later; return the new cut (None once
    nothing is held back any more).

    The data set is generated again up to the new cut into a scratch folder beside ``out``
    and only the files that changed are replaced (each atomically), so a replay server
    serving ``out/payloads`` meanwhile never reads a half-written page, and the export files
    of earlier days keep their modification times, as in a real bucket.
    """
    out = Path(out)
    path = out / HOLD_BACK_FILE
    if not path.is_file():
        raise ValueError(f"{out} holds no days back (no {HOLD_BACK_FILE}): nothing to release")
    settings = json.loads(path.read_text())
    left = settings["held_back_days"] - 1
    end = datetime.fromisoformat(settings["end"].replace("Z", "+00:00"))
    cut = hold_back_cut(end, left) if left else None
    scratch = Path(tempfile.mkdtemp(prefix=".release-", dir=out.parent))
    try:
        DemoGenerator(scratch / "data", seed=settings["seed"],
                      interactions=settings["interactions"], days=settings["days"], end=end,
                      page_size=settings["page_size"], progress=progress,
                      visible_until=cut).run()
        _sync(scratch / "data" / "payloads", out / "payloads")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if left:
        _write_hold_back(out, {**settings, "held_back_days": left})
    else:
        path.unlink()
    return cut


def _sync(source: Path, target: Path) -> None:
    """Make ``target`` hold exactly ``source``'s files, touching only the ones that differ."""
    wanted = {p.relative_to(source) for p in source.rglob("*") if p.is_file()}
    for relative in sorted(wanted):
        new, old = source / relative, target / relative
        if old.is_file() and filecmp.cmp(new, old, shallow=False):
            continue
        old.parent.mkdir(parents=True, exist_ok=True)
        staged = old.with_name(f".{old.name}.release")
        shutil.copyfile(new, staged)
        os.replace(staged, old)
    for stale in [p for p in target.rglob("*") if p.is_file()]:
        if stale.relative_to(target) not in wanted:
            stale.unlink()
