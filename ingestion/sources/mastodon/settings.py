"""Mastodon REST API endpoints and what an item must hold."""

from ingestion.sources.validation import ItemRules

LIMIT = 40
NOTIFICATION_TYPES = ("mention", "status", "reblog", "favourite", "follow")

# What a status or notification must hold to load (ingestion/sources/validation.py).
_STATUS_TYPES = frozenset({"mention", "status", "reblog", "favourite", "update", "poll"})
STATUS_RULES = ItemRules(
    keys=("id",), refs=("in_reply_to_id", "in_reply_to_account_id", "account.id"),
    times=("created_at",), optional_times=("edited_at",),
    texts=("content", "visibility", "language", "account.acct", "account.username"),
    numbers=("replies_count", "reblogs_count", "favourites_count", "account.followers_count"),
    objects=("account",), versions=("edited_at", "created_at"))
NOTIFICATION_RULES = ItemRules(
    keys=("id",), refs=("account.id", "status.id", "status.in_reply_to_id",
                        "status.in_reply_to_account_id", "status.account.id"),
    times=("created_at",), optional_times=("status.created_at", "status.edited_at"),
    texts=("type", "account.acct", "status.content", "status.visibility", "status.language"),
    numbers=("account.followers_count",), objects=("account", "status", "status.account"),
    # A notification about a status that has since been deleted arrives with no status.
    deleted=lambda n: n.get("type") in _STATUS_TYPES and n.get("status") is None)

# A status's lists (mentions, tags, media, custom emojis) land as JSON columns, one row per
# status (the Arrow path of ingestion/sources/arrow.py); staging reads them with JSON functions.
_STATUS_LISTS = ("mentions", "tags", "media_attachments", "emojis")
STATUS_JSON = {name: {"data_type": "json"} for name in _STATUS_LISTS}
NOTIFICATION_JSON = {f"status__{name}": {"data_type": "json"} for name in _STATUS_LISTS}
