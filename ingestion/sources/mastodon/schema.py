"""The raw tables of the Mastodon source and the columns each is created with.

Every column a staging model or a raw quality check reads directly, and the keys, typed as
the Arrow path lands them (``ingestion/sources/arrow.py``): ids and texts ``text``, counts
``bigint``, times ``timestamp``, the participants list ``json``. Columns staging reads with
``column_or_null`` (reply ids, the status of a notification) may be absent, except those the
raw checks read. A night without rows creates the table with these columns; a night with
rows adds the others.
"""

from dlt.common.schema.typing import TDataType

# A status as the statuses and hashtag timelines land it.
_STATUS: dict[str, TDataType] = {
    "id": "text",
    "account__id": "text",
    "account__acct": "text",
    "account__followers_count": "bigint",
    "visibility": "text",
    "language": "text",
    "content_text": "text",
    "created_at": "timestamp",
}

RAW_COLUMNS: dict[str, dict[str, TDataType]] = {
    "notifications": {
        "owned_account_id": "text",
        "id": "text",
        "type": "text",
        "account__id": "text",
        "account__acct": "text",
        "account__followers_count": "bigint",
        "created_at": "timestamp",
        # read by the raw checks (staging reads them with column_or_null)
        "status__visibility": "text",
        "status__content_text": "text",
        "status__created_at": "timestamp",
    },
    "statuses": {
        **_STATUS,
        "owned_account_id": "text",
        "favourites_count": "bigint",
        "reblogs_count": "bigint",
        "replies_count": "bigint",
    },
    "conversations": {
        "owned_account_id": "text",
        "id": "text",
        "accounts": "json",
        "last_status__id": "text",
        "last_status__account__id": "text",
        "last_status__created_at": "timestamp",
        # read by the raw checks (staging reads them with column_or_null)
        "last_status__visibility": "text",
        "last_status__content_text": "text",
    },
    "tag_statuses": {**_STATUS, "hashtag": "text"},
}
