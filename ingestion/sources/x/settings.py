"""X API v2 endpoints and field sets."""

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
