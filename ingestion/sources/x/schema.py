"""The raw tables of the X source and the columns each is created with.

Every column a staging model or a raw quality check reads directly, and the keys, typed as
the Arrow path lands them (``ingestion/sources/arrow.py``): ids and texts ``text``, counts
``bigint``, times ``timestamp``. Columns staging reads with ``column_or_null`` may be absent.
A night without rows creates the table with these columns; a night with rows adds the others.
"""

from dlt.common.schema.typing import TDataType

# The tweet columns mentions, posts and search results share.
_TWEET: dict[str, TDataType] = {
    "id": "text",
    "conversation_id": "text",
    "author_id": "text",
    "text": "text",
    "lang": "text",
    **{f"public_metrics__{m}": "bigint" for m in (
        "like_count", "retweet_count", "reply_count", "quote_count", "impression_count")},
    "created_at": "timestamp",
}
_AUTHOR: dict[str, TDataType] = {
    "author__username": "text",
    "author__public_metrics__followers_count": "bigint",
}

RAW_COLUMNS: dict[str, dict[str, TDataType]] = {
    "mentions": {"owned_account_id": "text", **_TWEET, **_AUTHOR},
    "posts": {"owned_account_id": "text", **_TWEET},
    "search_results": {**_TWEET, **_AUTHOR},
    "dm_events": {
        "owned_account_id": "text",
        "id": "text",
        "dm_conversation_id": "text",
        "sender_id": "text",
        "event_type": "text",
        "text": "text",
        "created_at": "timestamp",
        **_AUTHOR,
    },
}
