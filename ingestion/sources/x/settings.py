"""X API v2 endpoints, field sets and what an item must hold."""

from ingestion.sources.validation import IdFormat, ItemRules

DEFAULT_BASE_URL = "https://api.x.com"
MAX_RESULTS = 100
TWEET_FIELDS = ",".join([
    "id", "text", "author_id", "created_at", "conversation_id", "in_reply_to_user_id",
    "referenced_tweets", "lang", "public_metrics", "edit_history_tweet_ids",
])
USER_FIELDS = "id,name,username,public_metrics"
DM_EVENT_FIELDS = "id,event_type,text,sender_id,dm_conversation_id,created_at"
# List-valued fields stay one JSON column instead of becoming child tables.
JSON_COLUMNS = {"referenced_tweets": {"data_type": "json"},
                "edit_history_tweet_ids": {"data_type": "json"}}

_METRICS = tuple(f"public_metrics.{m}" for m in (
    "retweet_count", "reply_count", "like_count", "quote_count", "impression_count"))
_AUTHOR = ("author.public_metrics.followers_count", "author.public_metrics.following_count")
# X ids are snowflakes: 64-bit, milliseconds since X's epoch in the bits above the 22nd. An
# item whose id is out of range or from the future is quarantined: it would become since_id.
X_EPOCH_MS = 1288834974657
X_IDS = IdFormat("X", snowflakes=(("id", 22, X_EPOCH_MS),))
# What a tweet or DM event must hold to load (ingestion/sources/validation.py).
TWEET_RULES = ItemRules(
    keys=("id",), refs=("author_id", "conversation_id", "in_reply_to_user_id", "author.id"),
    times=("created_at",), texts=("text", "lang", "author.username", "author.name"),
    numbers=_METRICS + _AUTHOR, objects=("public_metrics", "author", "author.public_metrics"),
    ids=X_IDS)
DM_EVENT_RULES = ItemRules(
    keys=("id",), refs=("sender_id", "dm_conversation_id", "author.id"), times=("created_at",),
    texts=("text", "event_type", "author.username"), numbers=_AUTHOR,
    objects=("author", "author.public_metrics"), ids=X_IDS)
