"""Facebook and Instagram Graph API endpoints, field sets and what an item must hold."""

from ingestion.sources.validation import IdFormat, ItemRules

DEFAULT_BASE_URL = "https://graph.facebook.com/v21.0"
LIMIT = 100
PAGE_POST_FIELDS = "id,message,created_time,from,permalink_url,shares,reactions.summary(true)"
COMMENT_FIELDS = "id,message,created_time,from,parent{id}"
CONVERSATION_FIELDS = "id,updated_time"
MESSAGE_FIELDS = "id,message,created_time,from,to"
IG_MEDIA_FIELDS = "id,caption,timestamp,media_type,like_count,comments_count,username,owner"
IG_COMMENT_FIELDS = (
    "id,text,timestamp,username,from,media,replies{id,text,timestamp,username,from,parent_id}"
)

# Graph ids: numbers, or numbers joined by "_" (a post "<page>_<post>", a comment
# "<post>_<comment>"), each within 64 bits; Messenger threads and messages "t_..." / "m_...".
# Item ids reach URL paths (a post's comments, a thread's messages): nothing else passes.
GRAPH_IDS = IdFormat("Graph", numeric=r"[0-9]+(?:_[0-9]+)*",
                     other=r"[tm]_[A-Za-z0-9_.:$-]{1,256}")
# What an item of each edge must hold to load (ingestion/sources/validation.py).
_FROM = dict(refs=("from.id",), texts=("from.name", "from.username"), objects=("from",))
PAGE_POST_RULES = ItemRules(
    keys=("id",), times=("created_time",), texts=("message", "permalink_url", *_FROM["texts"]),
    refs=_FROM["refs"], numbers=("shares.count", "reactions.summary.total_count"),
    objects=("shares", "reactions", "reactions.summary", *_FROM["objects"]),
    ids=GRAPH_IDS)
COMMENT_RULES = ItemRules(
    keys=("id",), times=("created_time",), texts=("message", *_FROM["texts"]),
    refs=("parent.id", *_FROM["refs"]), objects=("parent", *_FROM["objects"]),
    ids=GRAPH_IDS)
CONVERSATION_RULES = ItemRules(keys=("id",), times=("updated_time",),
                               versions=("updated_time",), ids=GRAPH_IDS)
MESSAGE_RULES = ItemRules(keys=("id",), times=("created_time",),
                          texts=("message", *_FROM["texts"]), refs=_FROM["refs"],
                          objects=_FROM["objects"], ids=GRAPH_IDS)
IG_MEDIA_RULES = ItemRules(
    keys=("id",), times=("timestamp",), texts=("caption", "media_type", "username"),
    refs=("owner.id",), numbers=("like_count", "comments_count"), objects=("owner",),
    ids=GRAPH_IDS)
IG_COMMENT_RULES = ItemRules(
    keys=("id",), times=("timestamp",), texts=("text", "username", *_FROM["texts"]),
    refs=("parent_id", "media.id", *_FROM["refs"]),
    objects=("media", "replies", *_FROM["objects"]),
    ids=GRAPH_IDS)

# Owned accounts, read as single objects (no paging) for their audience counts.
PAGE_ACCOUNT_FIELDS = "id,name,followers_count,fan_count"
IG_ACCOUNT_FIELDS = "id,username,followers_count,follows_count,media_count"
PAGE_ACCOUNT_RULES = ItemRules(keys=("id",), texts=("name",),
                               numbers=("followers_count", "fan_count"), ids=GRAPH_IDS)
IG_ACCOUNT_RULES = ItemRules(keys=("id",), texts=("username",),
                             numbers=("followers_count", "follows_count", "media_count"),
                             ids=GRAPH_IDS)
