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
    # (a type that is not text is screened as such, not looked up)
    deleted=lambda n: (isinstance(n.get("type"), str) and n["type"] in _STATUS_TYPES
                       and n.get("status") is None))

# A status's lists (mentions, tags, media, custom emojis) land as JSON columns, one row per
# status (the Arrow path of ingestion/sources/arrow.py); staging reads them with JSON functions.
_STATUS_LISTS = ("mentions", "tags", "media_attachments", "emojis")
STATUS_JSON = {name: {"data_type": "json"} for name in _STATUS_LISTS}
NOTIFICATION_JSON = {f"status__{name}": {"data_type": "json"} for name in _STATUS_LISTS}

# A conversation (``/api/v1/conversations``) is one direct-message thread of one owned account:
# its participants (``accounts``, the owner left out) and its newest status. Mastodon pages and
# answers ``min_id`` by that status' id, so it is also the conversation's cursor and its time.
CONVERSATION_POSITION = "last_status.id"
CONVERSATION_TIME = "last_status.created_at"
CONVERSATION_RULES = ItemRules(
    # the last status' id is required as a key: it is the paging cursor (the item id shown in
    # the quarantine stays the conversation's, the last key)
    keys=(CONVERSATION_POSITION, "id"),
    refs=("last_status.in_reply_to_id", "last_status.in_reply_to_account_id",
          "last_status.account.id"),
    times=(CONVERSATION_TIME,), optional_times=("last_status.edited_at",),
    texts=("last_status.content", "last_status.visibility", "last_status.language",
           "last_status.account.acct"),
    numbers=("last_status.account.followers_count",),
    objects=("last_status", "last_status.account"),
    # the newer last status wins (an edit of the same one: the later read)
    versions=(CONVERSATION_TIME,),
    # Mastodon drops a conversation whose statuses are all deleted; one caught in between
    # arrives without a last status and says nothing.
    deleted=lambda c: c.get("last_status") is None)
CONVERSATION_JSON = {"accounts": {"data_type": "json"},
                     **{f"last_status__{name}": {"data_type": "json"} for name in _STATUS_LISTS}}
