"""Facebook Page and Instagram (Graph API): posts, comments and replies, Messenger threads.

Facebook comments are read with ``filter=stream`` so replies arrive flat with their ``parent``;
Instagram replies arrive nested under their comment and are yielded as rows of their own with
``parent_id`` set, so both platforms land in the same shape.
"""

from __future__ import annotations

from collections.abc import Iterator

import dlt
from dlt.sources.helpers.rest_client.paginators import JSONLinkPaginator

from ingestion.sources.meta import settings as S
from ingestion.sources.rest import api_client, pages, require


def _paginator() -> JSONLinkPaginator:
    # Graph pages link onwards with paging.next and omit it on the last page.
    return JSONLinkPaginator(next_url_path="paging.next")


@dlt.source(name="meta")
def meta_source(
    base_url: str | None = dlt.config.value,
    page_ids: list[str] | None = dlt.config.value,
    instagram_account_ids: list[str] | None = dlt.config.value,
    access_tokens: dict[str, str] | None = dlt.secrets.value,
):
    """Graph API resources for the owned Facebook Pages and Instagram accounts.

    Args:
        base_url: Graph root including the version, e.g. ``https://graph.facebook.com/v21.0``.
        page_ids: ids of the owned Facebook Pages.
        instagram_account_ids: ids of the owned Instagram professional accounts.
        access_tokens: a Page (or Instagram) access token per owned account id.
    """
    settings = {"base_url": base_url or S.DEFAULT_BASE_URL, "page_ids": page_ids or [],
                "instagram_account_ids": instagram_account_ids or [],
                "access_tokens": access_tokens}
    posts = page_posts(settings)
    conversations = page_conversations(settings)
    media = ig_media(settings)
    return (
        posts,
        posts | post_comments(settings),
        conversations,
        conversations | conversation_messages(settings),
        media,
        media | ig_comments(settings),
    )


def _token(settings: dict, account_id: str) -> str:
    tokens = require(settings["access_tokens"], "meta", "access_tokens", secret=True)
    return require(tokens.get(account_id), "meta", f"access_tokens.{account_id}", secret=True)


def _read(settings: dict, account_id: str, path: str, fields: str,
          extra: dict | None = None) -> Iterator[list[dict]]:
    client = api_client(settings["base_url"], _token(settings, account_id))
    params = {"fields": fields, "limit": S.LIMIT, **(extra or {})}
    for items, _ in pages(client, path, _paginator(), params):
        yield items


@dlt.resource(name="page_posts", primary_key="id", write_disposition="merge")
def page_posts(settings: dict) -> Iterator[dict]:
    """Posts in each owned Page's feed."""
    for page_id in settings["page_ids"]:
        for items in _read(settings, page_id, f"{page_id}/feed", S.PAGE_POST_FIELDS):
            yield [{**post, "page_id": page_id} for post in items]


@dlt.transformer(name="post_comments", primary_key="id", write_disposition="merge")
def post_comments(posts: list[dict], settings: dict) -> Iterator[dict]:
    """Comments and replies on each Page post, flat, replies with ``parent__id``."""
    for post in posts:
        for items in _read(settings, post["page_id"], f"{post['id']}/comments",
                           S.COMMENT_FIELDS, {"filter": "stream"}):
            yield [{**c, "post_id": post["id"], "page_id": post["page_id"]} for c in items]


@dlt.resource(name="page_conversations", primary_key="id", write_disposition="merge")
def page_conversations(settings: dict) -> Iterator[dict]:
    """Messenger threads of each owned Page."""
    for page_id in settings["page_ids"]:
        for items in _read(settings, page_id, f"{page_id}/conversations",
                           S.CONVERSATION_FIELDS, {"platform": "messenger"}):
            yield [{**c, "page_id": page_id} for c in items]


@dlt.transformer(name="conversation_messages", primary_key="id", write_disposition="merge",
                 columns={"to": {"data_type": "json"}})
def conversation_messages(conversations: list[dict], settings: dict) -> Iterator[dict]:
    """Messages of each Messenger thread (both directions)."""
    for conversation in conversations:
        for items in _read(settings, conversation["page_id"], f"{conversation['id']}/messages",
                           S.MESSAGE_FIELDS):
            yield [{**m, "conversation_id": conversation["id"],
                    "page_id": conversation["page_id"]} for m in items]


@dlt.resource(name="ig_media", primary_key="id", write_disposition="merge")
def ig_media(settings: dict) -> Iterator[dict]:
    """Media published by each owned Instagram account."""
    for account_id in settings["instagram_account_ids"]:
        for items in _read(settings, account_id, f"{account_id}/media", S.IG_MEDIA_FIELDS):
            yield [{**m, "account_id": account_id} for m in items]


@dlt.transformer(name="ig_comments", primary_key="id", write_disposition="merge")
def ig_comments(media: list[dict], settings: dict) -> Iterator[dict]:
    """Comments on each medium, with nested replies flattened into rows with ``parent_id``."""
    for medium in media:
        for items in _read(settings, medium["account_id"], f"{medium['id']}/comments",
                           S.IG_COMMENT_FIELDS):
            rows = []
            for comment in items:
                replies = (comment.pop("replies", None) or {}).get("data", [])
                context = {"media_id": medium["id"], "account_id": medium["account_id"]}
                rows.append({**comment, **context})
                rows.extend({**r, "parent_id": r.get("parent_id") or comment["id"], **context}
                            for r in replies)
            yield rows
