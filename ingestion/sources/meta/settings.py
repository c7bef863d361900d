"""Facebook and Instagram Graph API endpoints and field sets."""

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
