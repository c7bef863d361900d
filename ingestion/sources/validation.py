"""Screening API items before they load: valid items pass, bad ones go to a quarantine table.

Each API resource declares what its items must hold (:class:`ItemRules`, in its source's
``settings.py``): key fields, reference ids, times, texts, numbers and nested objects, by dotted
path. :func:`screen` applies the rules once per page. A valid item continues unchanged except
for two normalisations: integer ids become text (platforms send ids as strings; one sent as a
number would otherwise split the column) and every item gets ``_version``, the order in which
versions of one key are deduplicated (dlt ``dedup_sort``): the later version time wins, then
the later read within the resource's run, so of an item read twice in one night exactly one
row lands, deterministically (and a re-run of the same pages writes the same values).

An item that breaks a rule becomes a row of ``<resource>_quarantine`` with the endpoint, the
item id if it has a usable one (for a tombstone without its own key, the id of the item it
deletes: X compliance ``delete.tweet.id``, Graph ``comment_id`` / ``post_id``; dbt's
``int_tombstones`` removes that item downstream), the raw JSON text and the reason, so items
read = items loaded (+ superseded duplicates) + items quarantined. Quarantine rows are a table
variant of the same resource (like the file exports' quarantine), not a resource of their own,
so they add no Dagster asset. Reasons:

- ``not a JSON object``;
- ``deleted on the platform (tombstone)``: ``deleted: true``, ``is_deleted: true``,
  ``deleted_at``, a ``delete`` object (X compliance shape), ``verb: remove`` (Graph change
  shape), or a resource's own shape (a Mastodon notification whose status is gone);
- ``missing <field>``, ``<field> is not an id``, ``<field> is not text``,
  ``<field> is not a number``, ``<field> is not an object``;
- ``<field> is not a valid id on <platform>: '...'``, ``<field> is out of range for an id on
  <platform>: '...'`` (beyond 64 bits), ``<field> is a snowflake id from the future: '...'``
  (X tweet and DM ids, Mastodon status ids encode their creation time): each platform's key
  ids have a shape (:class:`IdFormat`, in the source's ``settings.py``), and an absurd id
  would become a ``since_id`` / ``min_id`` cursor past every real item, or part of a URL path;
- ``<field> is not a time: '...'`` (unparseable, impossible date, bad or missing time zone),
  ``<field> is in the future: '...'`` (beyond :data:`FUTURE_TOLERANCE`: a future time would
  also push a ``since`` cursor past every real item), ``<field> is before 2000: '...'``;
- ``<field> is longer than 100000 characters``, ``<field> holds a lone surrogate (not valid
  Unicode)``, ``<field> is nested deeper than 250 levels`` (``raw_json`` keeps those levels).
"""

from __future__ import annotations

import functools
import hashlib
import json as stdjson
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import dlt
import pyarrow as pa
from dlt.common import json

# Longest text value loaded. Platforms cap posts far below it (X 25k for long posts, Facebook
# 63k); anything longer is a broken or hostile item, kept whole in the quarantine instead.
MAX_TEXT_CHARS = 100_000
# Deepest nesting an item may have: JSON encoders stop at about this depth (orjson at 255),
# and no platform nests its items more than a handful of levels.
MAX_NESTING = 250
# Clocks drift and platforms stamp in their own time; more than this ahead is not a real time.
FUTURE_TOLERANCE = timedelta(days=1)
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TOMBSTONE = "deleted on the platform (tombstone)"
# The fields a tombstone's quarantine row keeps of it (ids and deletion markers): the rest is
# the deleted content, which the warehouse must not hold on to.
TOMBSTONE_FIELDS = ("id", "type", "deleted", "is_deleted", "deleted_at", "delete", "verb",
                    "item", "comment_id", "post_id")
# Version order: seconds of the version time, then how many times the same key was read
# before in the resource's run (0 for nearly every row, so a re-run writes the same values).
_ORDER_SPAN = 10**9

VERSIONED = {"_version": {"data_type": "bigint", "dedup_sort": "desc"}}
QUARANTINE_COLUMNS = {
    "quarantine_key": {"data_type": "text"},
    "endpoint": {"data_type": "text"},
    "item_id": {"data_type": "text"},
    "raw_json": {"data_type": "text"},
    "reason": {"data_type": "text"},
    "quarantined_at": {"data_type": "timestamp"},
}


class Rejected(ValueError):
    """An item that breaks its resource's rules; the message is the reason."""


# Platforms' ids are 64-bit integers: signed on X and Mastodon (PostgreSQL bigint), and no
# Graph id part has been seen beyond that either.
MAX_ID = 2**63 - 1


@dataclass(frozen=True)
class IdFormat:
    """What a platform's ids look like.

    Args:
        platform: named in reasons (``id is not a valid id on Mastodon``).
        numeric: the shape of a numeric id (regular expression); each run of digits in it
            must be at most :data:`MAX_ID`.
        other: the shape of ids that are not numbers (another server software's, Messenger's
            ``m_...``), when the platform has such; None: every id is numeric.
        snowflakes: ``(field, shift, epoch_ms)`` for each key field whose ids are snowflakes,
            creation time in ms ``(id >> shift) + epoch_ms``: such an id may not lie in the
            future.
    """

    platform: str
    numeric: str = r"[0-9]+"
    other: str | None = None
    snowflakes: tuple[tuple[str, int, int], ...] = ()

    def check(self, field: str, text: str, now: datetime) -> None:
        """Raise :class:`Rejected` when ``text``, the value of key ``field``, is no such id."""
        shown = text[:60]
        if _fullmatch(self.numeric, text):
            if any(len(run) > 19 or int(run) > MAX_ID for run in _DIGIT_RUNS.findall(text)):
                raise Rejected(f"{field} is out of range for an id on {self.platform}: "
                               f"{shown!r}")
            for path, shift, epoch_ms in self.snowflakes:
                if path == field:
                    created = datetime.fromtimestamp(((int(text) >> shift) + epoch_ms) / 1000,
                                                     UTC)
                    if created > now + FUTURE_TOLERANCE:
                        raise Rejected(f"{field} is a snowflake id from the future: {shown!r} "
                                       f"({created:%Y-%m-%d})")
            return
        if self.other is None or not _fullmatch(self.other, text):
            raise Rejected(f"{field} is not a valid id on {self.platform}: {shown!r}")


_DIGIT_RUNS = re.compile(r"[0-9]+")


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _fullmatch(pattern: str, text: str) -> bool:
    return _compiled(pattern).fullmatch(text) is not None


@dataclass(frozen=True)
class ItemRules:
    """What an item of one API resource must hold; fields are dotted paths (``status.id``).

    Args:
        keys: primary-key ids: must be present, text or integer.
        refs: other ids: text or integer when present.
        times: must be present and a real time with a zone, not in the future.
        optional_times: the same, when present.
        texts: text when present.
        numbers: numbers when present.
        objects: JSON objects when present (the API nests them; anything else breaks columns).
        versions: times ordering two versions of one key, first present wins (e.g. edited_at).
        deleted: a resource's own tombstone shape, besides the common markers.
        ids: the platform's id shape every key must have (None: any text or integer).
    """

    keys: tuple[str, ...] = ("id",)
    refs: tuple[str, ...] = ()
    times: tuple[str, ...] = ()
    optional_times: tuple[str, ...] = ()
    texts: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    objects: tuple[str, ...] = ()
    versions: tuple[str, ...] = ()
    deleted: Callable[[dict], bool] | None = None
    ids: IdFormat | None = None


_MISSING = object()


def _get(item: dict, path: str) -> Any:
    return _get_parts(item, _parts(path))


@functools.cache
def _parts(path: str) -> tuple[str, ...]:
    return tuple(path.split("."))


def _get_parts(item: dict, parts: tuple[str, ...]) -> Any:
    value: Any = item
    for part in parts:
        if not isinstance(value, dict):
            return _MISSING
        value = value.get(part, _MISSING)
        if value is _MISSING:
            return value
    return value


def path_value(item: Any, path: str | tuple[str, ...]) -> Any:
    """The value at a dotted ``path`` (or its parts) of an item; None where anything on the
    way is missing or not an object."""
    value = _get_parts(item, _parts(path) if isinstance(path, str) else path)
    return None if value is _MISSING else value


def _set(item: dict, path: str, value: Any) -> None:
    """Set ``path`` in ``item``, copying the nested objects on the way (they may be shared
    with the page, e.g. one author object under all of that author's posts)."""
    *parents, last = _parts(path)
    for part in parents:
        item[part] = dict(item[part])
        item = item[part]
    item[last] = value


def parse_api_time(value: Any, field: str, now: datetime) -> datetime:
    """An API time (ISO 8601, or Graph's ``+0000`` offsets) as aware UTC, or :class:`Rejected`."""
    if not isinstance(value, str):
        raise Rejected(f"{field} is not a time: {str(value)[:60]!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise Rejected(f"{field} is not a time: {value[:60]!r}") from None
    if parsed.tzinfo is None:
        raise Rejected(f"{field} is not a time: {value[:60]!r} has no time zone")
    check_plausible(parsed, field, value, now)
    return parsed.astimezone(UTC)


def check_plausible(moment: datetime, field: str, shown: str, now: datetime) -> None:
    """Reject a time in the future (beyond the tolerance) or before 2000."""
    if moment > now + FUTURE_TOLERANCE:
        raise Rejected(f"{field} is in the future: {shown[:60]!r}")
    if moment < EARLIEST:
        raise Rejected(f"{field} is before 2000: {shown[:60]!r}")


def _is_deleted(item: dict, rules: ItemRules) -> bool:
    if item.get("deleted") is True or item.get("is_deleted") is True:
        return True
    if item.get("deleted_at") or isinstance(item.get("delete"), dict):
        return True
    if item.get("verb") == "remove":
        return True
    return bool(rules.deleted and rules.deleted(item))


def _walk_strings(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > MAX_NESTING:
        raise Rejected(f"{path or 'item'} is nested deeper than {MAX_NESTING} levels")
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from _walk_strings(key, path or "field name", depth + 1)
            yield from _walk_strings(child, f"{path}.{key}" if path else str(key), depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _walk_strings(child, path, depth + 1)


def check_text(item: Any) -> None:
    """Reject any text value (or field name) over the length limit or holding a lone
    surrogate, and an item nested deeper than :data:`MAX_NESTING` levels."""
    for path, text in _walk_strings(item, ""):
        if len(text) > MAX_TEXT_CHARS:
            raise Rejected(f"{path} is longer than {MAX_TEXT_CHARS} characters")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise Rejected(f"{path} holds a lone surrogate (not valid Unicode)") from None


def _texts_known_good(item: dict) -> bool:
    """Whether ``item`` surely passes :func:`check_text`, tested at C speed: orjson refuses
    lone surrogates, and no text in an item is longer than its whole encoding. Only items
    failing this are walked string by string (in Python, slow)."""
    try:
        return len(json.dumpb(item)) <= MAX_TEXT_CHARS
    except (TypeError, ValueError):  # lone surrogates, ints beyond 64 bits
        return False


def _as_id(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise Rejected(f"{field} is not an id: {str(value)[:60]!r}")
    text = str(value)
    if not text.strip():
        raise Rejected(f"missing {field}")
    return text


def _getter(path: str) -> Callable[[dict], Any]:
    """A function reading ``path`` from an item (:data:`_MISSING` where it is not there), with
    the one- and two-level paths that make up nearly every rule read without a loop."""
    parts = _parts(path)
    if len(parts) == 1:
        (key,) = parts
        return lambda item: item.get(key, _MISSING)
    if len(parts) == 2:
        first, second = parts

        def nested(item: dict) -> Any:
            value = item.get(first, _MISSING)
            return value.get(second, _MISSING) if isinstance(value, dict) else _MISSING

        return nested
    return lambda item: _get_parts(item, parts)


@functools.cache
def _plan(rules: ItemRules) -> dict[str, tuple[tuple[str, Callable[[dict], Any]], ...]]:
    """The rules' fields per kind, each with its reader (made once per rule set: screening
    reads some twenty fields of every item)."""
    kinds = ("keys", "refs", "objects", "texts", "numbers", "times", "optional_times")
    return {kind: tuple((field, _getter(field)) for field in getattr(rules, kind))
            for kind in kinds}


def check(item: Any, rules: ItemRules, now: datetime, seen: Counter | None = None) -> dict:
    """The item as it should load (ids as text, ``_version`` set), or :class:`Rejected`."""
    if not isinstance(item, dict):
        raise Rejected("not a JSON object")
    if _is_deleted(item, rules):
        raise Rejected(TOMBSTONE)
    plan = _plan(rules)
    clean = dict(item)  # normalising never changes the page (see _set)
    for field, get in plan["keys"]:
        value = get(clean)
        if value is _MISSING or value is None:
            raise Rejected(f"missing {field}")
        if type(value) is not str and (text := _as_id(value, field)) is not value:
            _set(clean, field, text)
            value = text
        elif not value.strip():
            raise Rejected(f"missing {field}")
        if rules.ids is not None:
            rules.ids.check(field, value, now)
    for field, get in plan["refs"]:
        value = get(clean)
        if value is _MISSING or value is None:
            continue
        if type(value) is not str and (text := _as_id(value, field)) is not value:
            _set(clean, field, text)
        elif not value.strip():
            raise Rejected(f"missing {field}")
    for field, get in plan["objects"]:
        value = get(clean)
        if value is not _MISSING and value is not None and not isinstance(value, dict):
            raise Rejected(f"{field} is not an object")
    for field, get in plan["texts"]:
        value = get(clean)
        if value is not _MISSING and value is not None and not isinstance(value, str):
            raise Rejected(f"{field} is not text")
    for field, get in plan["numbers"]:
        value = get(clean)
        if value is _MISSING or value is None or type(value) is int:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not math.isfinite(value)):
            raise Rejected(f"{field} is not a number: {str(value)[:60]!r}")
    for field, get in plan["times"]:
        value = get(clean)
        if value is _MISSING or value is None or value == "":
            raise Rejected(f"missing {field}")
        parse_api_time(value, field, now)
    for field, get in plan["optional_times"]:
        value = get(clean)
        if value is not _MISSING and value is not None:
            parse_api_time(value, field, now)
    if not _texts_known_good(clean):
        check_text(clean)
    key = tuple(get(clean) for _, get in plan["keys"])
    seen = seen if seen is not None else Counter()
    clean["_version"] = _version(clean, rules, now, seen[key])
    seen[key] += 1
    return clean


def _version(item: dict, rules: ItemRules, now: datetime, repeat: int) -> int:
    seconds = 0
    for field in rules.versions:
        value = _get(item, field)
        if value is not _MISSING and value is not None:
            seconds = int(parse_api_time(value, field, now).timestamp())
            break
    return seconds * _ORDER_SPAN + min(repeat, _ORDER_SPAN - 1)


def _clipped(value: Any, depth: int = 0) -> Any:
    # what of an item nested too deeply is kept: its first MAX_NESTING levels
    if depth >= MAX_NESTING:
        return f"(nested deeper than {MAX_NESTING} levels)"
    if isinstance(value, dict):
        return {key: _clipped(child, depth + 1) for key, child in value.items()}
    if isinstance(value, list):
        return [_clipped(child, depth + 1) for child in value]
    return value


def raw_json(item: Any) -> str:
    """The item as JSON text; characters stay as sent unless they cannot be stored (lone
    surrogates), in which case the whole text is written with ``\\uXXXX`` escapes. An item
    nested deeper than :data:`MAX_NESTING` levels keeps those levels."""
    try:
        text = stdjson.dumps(item, ensure_ascii=False)
    except RecursionError:
        item = _clipped(item)
        text = stdjson.dumps(item, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = stdjson.dumps(item, ensure_ascii=True)
    return text


def _item_id(item: Any, rules: ItemRules) -> str | None:
    if not isinstance(item, dict):
        return None
    value = _get(item, rules.keys[-1]) if rules.keys else _MISSING
    if (value is _MISSING or value is None) and _is_deleted(item, rules):
        # A tombstone without the item's own key names the deleted item elsewhere: X
        # compliance events (v2 ``delete.tweet``, v1.1 ``delete.status``) and Graph change
        # values (``comment_id`` before ``post_id``: a comment's removal names its post too).
        # The warehouse removes the item by this id (dbt model int_tombstones).
        paths = ("delete.tweet.id", "delete.status.id", "delete.direct_message.id",
                 "comment_id", "post_id")
        value = next((found for path in paths
                      if (found := _get(item, path)) is not _MISSING and found is not None),
                     _MISSING)
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return raw_json(value).strip('"')


def screen(items: list, rules: ItemRules, endpoint: str, seen: Counter | None = None
           ) -> tuple[list[dict], list[dict]]:
    """``(valid items, quarantine rows)`` of one page read from ``endpoint`` (a path);
    ``seen`` counts the keys read so far by the resource (so a repeat outranks its earlier
    read)."""
    now = datetime.now(UTC)
    seen = seen if seen is not None else Counter()
    good, bad = [], []
    for item in items:
        try:
            good.append(check(item, rules, now, seen))
        except Rejected as exc:
            raw = raw_json(item)
            key = hashlib.sha256(f"{endpoint}\n{raw}".encode()).hexdigest()
            reason = str(exc)
            if reason == TOMBSTONE:
                # the deleted content is not kept, only what names the deletion
                raw = raw_json({k: item[k] for k in TOMBSTONE_FIELDS if k in item})
            bad.append({"quarantine_key": key, "endpoint": endpoint,
                        "item_id": _item_id(item, rules), "raw_json": raw,
                        "reason": reason, "quarantined_at": now})
    return good, bad


def quarantine(rows: list[dict], table: str) -> Any:
    """Quarantine rows marked for ``<table>_quarantine`` (merged by item and endpoint, so an
    item re-read by a lookback window is one row)."""
    hints = dlt.mark.make_hints(table_name=f"{table}_quarantine", write_disposition="merge",
                                primary_key="quarantine_key", columns=QUARANTINE_COLUMNS)
    return dlt.mark.with_hints(rows, hints, create_table_variant=True)


class Screen:
    """The screening of one resource's pages: call it on each page (valid items come back),
    then yield :meth:`rejected` from the resource to land what it held back.

    Keeping the rejected rows here lets the paging helpers hand on plain item lists, so
    cursors and time filters only ever see valid items.
    """

    def __init__(self, rules: ItemRules) -> None:
        self.rules = rules
        self._held: list[dict] = []
        self._seen: Counter = Counter()

    def __call__(self, items: list, endpoint: str) -> list[dict]:
        """The valid items of one page read from ``endpoint`` (a path, no query string)."""
        good, bad = screen(items, self.rules, endpoint, self._seen)
        self._held.extend(bad)
        return good

    def rejected(self) -> Iterator[Any]:
        """The items held back so far, marked for ``<resource>_quarantine`` (none: nothing)."""
        if self._held:
            rows, self._held = self._held, []
            yield quarantine(rows, dlt.current.resource_name())


def is_quarantine(items: Any) -> bool:
    """Whether a transformer's input is its parent's quarantine rows (not followed further).

    Told by the rows themselves (a list of dicts, or the Arrow table the parent's page became):
    dlt does not hand the item's hints to a transformer whose other arguments are bound."""
    if isinstance(items, pa.Table):
        return "quarantine_key" in items.column_names
    return (isinstance(items, list) and bool(items) and isinstance(items[0], dict)
            and "quarantine_key" in items[0])


def parent_rows(items: Any) -> list[dict]:
    """A parent resource's page as handed to a transformer: its Arrow table as flat rows
    (``from__id``), or the list of items as it is."""
    return items.to_pylist() if isinstance(items, pa.Table) else items
