"""The raw tables of the Meta source and the columns each is created with.

Every column a staging model or a raw quality check reads directly, and the keys, typed as
the Arrow path lands them (``ingestion/sources/arrow.py``): ids and texts ``text``, counts
``bigint``, times ``timestamp``, the snapshot day ``date``. Columns staging reads with
``column_or_null`` (a Page's or account's optional counts, reply parents) may be absent.
A night without rows creates the table with these columns; a night with rows adds the others.
"""

from dlt.common.schema.typing import TDataType

# A Facebook message, post or comment: who wrote it, what and when.
_FACEBOOK: dict[str, TDataType] = {
    "id": "text",
    "page_id": "text",
    "from__id": "text",
    "from__name": "text",
    "message": "text",
    "created_time": "timestamp",
}

RAW_COLUMNS: dict[str, dict[str, TDataType]] = {
    "page_posts": _FACEBOOK,
    "post_comments": {**_FACEBOOK, "post_id": "text"},
    "page_conversations": {"id": "text", "page_id": "text", "updated_time": "timestamp"},
    "conversation_messages": {**_FACEBOOK, "conversation_id": "text"},
    "ig_media": {
        "id": "text",
        "account_id": "text",
        "caption": "text",
        "media_type": "text",
        "like_count": "bigint",
        "comments_count": "bigint",
        "timestamp": "timestamp",
    },
    "ig_comments": {
        "id": "text",
        "media_id": "text",
        "account_id": "text",
        "from__id": "text",
        "from__username": "text",
        "text": "text",
        "timestamp": "timestamp",
    },
    "accounts": {"platform": "text", "id": "text", "snapshot_date": "date"},
}
