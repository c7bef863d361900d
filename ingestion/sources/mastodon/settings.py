"""Mastodon REST API endpoints and what an item must hold."""

from ingestion.sources.validation import IdFormat, ItemRules

LIMIT = 40
# The notification types the warehouse models, the only ones the source asks for
# (``types[]``, Mastodon 3.5+). An instance that ignores the filter (older, or another
# server) sends others too (poll, update, quote, severed_relationships, moderation_warning,
# admin.sign_up, admin.report...): they land under their own name, staging warns about them
# and the models that read notifications leave them out.
NOTIFICATION_TYPES = ("mention", "status", "reblog", "favourite", "follow")
NOTIFICATION_PARAMS = {"limit": LIMIT, "types[]": list(NOTIFICATION_TYPES)}
# The owned accounts' own timelines without their boosts (a boost is the account sharing
# someone else's status, not a post or a message of its own); staging still marks a boost
# that arrives (stg_mastodon__statuses.reblog_of_status_id) and the models leave it out.
OWN_STATUS_PARAMS = {"limit": LIMIT, "exclude_reblogs": "true"}

# What a status or notification must hold to load (ingestion/sources/validation.py). A
# status without its author (``account``) and a notification without the account that acted
# mean nothing to the warehouse: both are required ids, so such an item is quarantined
# ("missing account.id") instead of loading and failing staging's tests. The item's own id
# comes last: it is the one a quarantine row names.
_STATUS_TYPES = frozenset({"mention", "status", "reblog", "favourite", "update", "poll"})
# Mastodon ids are strings: numbers within 64 bits on Mastodon itself (status ids are
# snowflakes, milliseconds since 1970 above the 16th bit), short letters-and-digits ids on
# other server software. An item with anything else is quarantined: its id would become the
# min_id cursor (20 nines and no new item would ever be read again).
_MASTODON_ID_TEXT = r"[0-9A-Za-z_-]{1,64}"
STATUS_IDS = IdFormat("Mastodon", other=_MASTODON_ID_TEXT, snowflakes=(("id", 16, 0),))
NOTIFICATION_IDS = IdFormat("Mastodon", other=_MASTODON_ID_TEXT)
STATUS_RULES = ItemRules(
    keys=("account.id", "id"), refs=("in_reply_to_id", "in_reply_to_account_id"),
    times=("created_at",), optional_times=("edited_at",),
    texts=("content", "visibility", "language", "account.acct", "account.username"),
    numbers=("replies_count", "reblogs_count", "favourites_count", "account.followers_count"),
    objects=("account",), versions=("edited_at", "created_at"), ids=STATUS_IDS)
NOTIFICATION_RULES = ItemRules(
    keys=("account.id", "id"), refs=("status.id", "status.in_reply_to_id",
                                     "status.in_reply_to_account_id", "status.account.id"),
    times=("created_at",), optional_times=("status.created_at", "status.edited_at"),
    texts=("type", "account.acct", "status.content", "status.visibility", "status.language"),
    numbers=("account.followers_count",), objects=("account", "status", "status.account"),
    ids=NOTIFICATION_IDS,
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
CONVERSATION_IDS = IdFormat("Mastodon", other=_MASTODON_ID_TEXT,
                            snowflakes=((CONVERSATION_POSITION, 16, 0),))
CONVERSATION_RULES = ItemRules(
    # the last status' id is required as a key: it is the paging cursor (the item id shown in
    # the quarantine stays the conversation's, the last key); its author is required too
    keys=(CONVERSATION_POSITION, "last_status.account.id", "id"),
    refs=("last_status.in_reply_to_id", "last_status.in_reply_to_account_id"),
    times=(CONVERSATION_TIME,), optional_times=("last_status.edited_at",),
    texts=("last_status.content", "last_status.visibility", "last_status.language",
           "last_status.account.acct"),
    numbers=("last_status.account.followers_count",),
    objects=("last_status", "last_status.account"),
    # the newer last status wins (an edit of the same one: the later read)
    versions=(CONVERSATION_TIME,),
    # Mastodon drops a conversation whose statuses are all deleted; one caught in between
    # arrives without a last status and says nothing.
    deleted=lambda c: c.get("last_status") is None,
    ids=CONVERSATION_IDS)
CONVERSATION_JSON = {"accounts": {"data_type": "json"},
                     **{f"last_status__{name}": {"data_type": "json"} for name in _STATUS_LISTS}}
