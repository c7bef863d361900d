-- All platforms' messages in one shape: one row per message (post, comment, reply, mention,
-- DM, keyword or hashtag post), deduplicated across the endpoints that return it.
-- Incremental: every run computes all messages (threads need their parents) but rewrites only
-- new ones and the var('lookback_days') before them (macro incremental_reprocess).
-- Messages deleted on the platform (int_tombstones) are left out, and the post-hook deletes
-- those an earlier run wrote; replies to them stay (parent_message_id then dangles), and
-- threads are built before the deletion so a thread keeps its id when its root is deleted.

{{ config(
    materialized='incremental',
    unique_key='message_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook="{{ delete_tombstoned('message_key', tombstoned_message_keys()) }}",
) }}

with recursive

owned as (
    select platform, account_id from {{ ref('int_owned_accounts') }}
),

x_tweets as (
    -- A tweet can come back from mentions, the owned timeline and search: prefer the first.
    select
        'x' as platform, 'public' as medium, tweet_id as message_id, owned_account_id,
        author_id, conversation_id as thread_id, replied_to_tweet_id as parent_message_id,
        in_reply_to_user_id, text, lang, true as is_directed,
        case when replied_to_tweet_id is null then 'mention' else 'reply' end as message_type,
        created_at, 1 as source_rank
    from {{ ref('stg_x__mentions') }}
    union all
    select
        'x', 'public', tweet_id, owned_account_id, author_id, conversation_id,
        replied_to_tweet_id, in_reply_to_user_id, text, lang, false,
        case when in_reply_to_user_id is null then 'post' else 'reply' end,
        created_at, 2
    from {{ ref('stg_x__posts') }}
    union all
    select
        'x', 'public', tweet_id, cast(null as varchar), author_id, conversation_id,
        replied_to_tweet_id, in_reply_to_user_id, text, lang, false, 'keyword_mention',
        created_at, 3
    from {{ ref('stg_x__search_results') }}
),

x_ranked as (
    select
        *,
        row_number() over (
            partition by message_id order by source_rank, owned_account_id
        ) as endpoint_rank
    from x_tweets
),

x_public as (
    select
        platform, medium, message_id, owned_account_id, author_id, thread_id,
        parent_message_id, text, lang, is_directed, message_type, created_at,
        -- who the brand talks to: the author of inbound, the replied-to user of outbound
        case
            when author_id in (select account_id from owned where platform = 'x')
                then in_reply_to_user_id
            else author_id
        end as counterpart_id
    from x_ranked
    where endpoint_rank = 1
),

x_dm as (
    select
        'x' as platform, 'direct' as medium, dm_event_id as message_id, owned_account_id,
        sender_id as author_id, dm_conversation_id as thread_id,
        cast(null as varchar) as parent_message_id, text, cast(null as varchar) as lang,
        true as is_directed, 'dm' as message_type, created_at,
        case
            when sender_id = owned_account_id
                then replace(replace(dm_conversation_id, owned_account_id || '-', ''),
                             '-' || owned_account_id, '')
            else sender_id
        end as counterpart_id
    from {{ ref('stg_x__dm_events') }}
    where event_type = 'MessageCreate'
),

fb_posts as (
    select
        'facebook' as platform, 'public' as medium, post_id as message_id,
        page_id as owned_account_id, author_id, post_id as thread_id,
        cast(null as varchar) as parent_message_id, text, cast(null as varchar) as lang,
        false as is_directed, 'post' as message_type, created_at,
        cast(null as varchar) as counterpart_id
    from {{ ref('stg_meta__page_posts') }}
),

fb_comments as (
    select
        'facebook' as platform, comment_id as message_id, page_id as owned_account_id,
        author_id, coalesce(parent_comment_id, comment_id) as thread_id,
        parent_comment_id as parent_message_id, text, created_at
    from {{ ref('stg_meta__post_comments') }}
),

ig_comments as (
    select
        'instagram' as platform, comment_id as message_id, account_id as owned_account_id,
        author_id, coalesce(parent_comment_id, comment_id) as thread_id,
        parent_comment_id as parent_message_id, text, created_at
    from {{ ref('stg_meta__ig_comments') }}
),

comments as (
    select * from fb_comments
    union all
    select * from ig_comments
),

comment_threads as (
    -- A comment thread belongs to the person who wrote its top-level comment.
    select message_id as thread_id, author_id as thread_author_id
    from comments
    where parent_message_id is null
),

graph_comments as (
    select
        comments.platform, 'public' as medium, comments.message_id, comments.owned_account_id,
        comments.author_id, comments.thread_id, comments.parent_message_id, comments.text,
        cast(null as varchar) as lang, true as is_directed,
        case when comments.parent_message_id is null then 'comment' else 'reply' end
            as message_type,
        comments.created_at,
        case
            when comments.author_id = comments.owned_account_id
                then comment_threads.thread_author_id
            else comments.author_id
        end as counterpart_id
    from comments
    left join comment_threads on comments.thread_id = comment_threads.thread_id
),

ig_media as (
    select
        'instagram' as platform, 'public' as medium, media_id as message_id,
        account_id as owned_account_id, account_id as author_id, media_id as thread_id,
        cast(null as varchar) as parent_message_id, caption as text,
        cast(null as varchar) as lang, false as is_directed, 'post' as message_type,
        created_at, cast(null as varchar) as counterpart_id
    from {{ ref('stg_meta__ig_media') }}
),

messenger as (
    select
        'facebook' as platform, 'direct' as medium, message_id, page_id as owned_account_id,
        sender_id as author_id, conversation_id as thread_id,
        cast(null as varchar) as parent_message_id, text, cast(null as varchar) as lang,
        true as is_directed, 'dm' as message_type, created_at,
        -- a Messenger thread is between the Page and one person
        max(case when sender_id <> page_id then sender_id end)
            over (partition by conversation_id) as counterpart_id
    from {{ ref('stg_meta__conversation_messages') }}
),

mastodon_all as (
    select
        -- the account that mentioned the brand is the mention's author
        status_id as message_id, owned_account_id, coalesce(status_author_id, actor_id)
            as author_id,
        status_in_reply_to_id as parent_message_id, status_in_reply_to_account_id
            as in_reply_to_account_id,
        status_visibility as visibility, status_language as lang, status_text as text,
        true as is_directed, status_created_at as created_at, 1 as source_rank
    from {{ ref('stg_mastodon__notifications') }}
    where notification_type = 'mention' and status_id is not null
    union all
    select
        status_id, owned_account_id, author_id, in_reply_to_id, in_reply_to_account_id,
        visibility, language, text, false, created_at, 2
    from {{ ref('stg_mastodon__statuses') }}
    -- a boost shares someone else's status: not a message of the owned account
    where reblog_of_status_id is null
    union all
    select
        status_id, cast(null as varchar), author_id, cast(null as varchar),
        cast(null as varchar), 'public', language, text, false, created_at, 3
    from {{ ref('stg_mastodon__tag_statuses') }}
    union all
    -- A DM whose notification was dismissed or filtered reaches us only as the last status
    -- of its conversation; a status any other endpoint returned keeps that row (rank 4).
    select
        last_status_id, owned_account_id, last_status_author_id, last_status_in_reply_to_id,
        last_status_in_reply_to_account_id, last_status_visibility, last_status_language,
        last_status_text, true, last_status_created_at, 4
    from {{ ref('stg_mastodon__conversations') }}
),

mastodon_ranked as (
    select
        *,
        row_number() over (
            partition by message_id order by source_rank, owned_account_id
        ) as endpoint_rank
    from mastodon_all
),

mastodon_statuses as (
    select * from mastodon_ranked where endpoint_rank = 1
),

mastodon_roots (message_id, root_id) as (
    -- Mastodon has no thread id: follow in_reply_to_id up to the first status we hold.
    select message_id, message_id
    from mastodon_statuses
    where parent_message_id is null
        or parent_message_id not in (select message_id from mastodon_statuses)
    union all
    select child.message_id, mastodon_roots.root_id
    from mastodon_statuses as child
    inner join mastodon_roots on child.parent_message_id = mastodon_roots.message_id
),

mastodon as (
    select
        'mastodon' as platform,
        case when statuses.visibility = 'direct' then 'direct' else 'public' end as medium,
        statuses.message_id, statuses.owned_account_id, statuses.author_id,
        mastodon_roots.root_id as thread_id, statuses.parent_message_id, statuses.text,
        statuses.lang, statuses.is_directed,
        case
            when statuses.source_rank = 3 then 'hashtag_post'
            when statuses.visibility = 'direct' then 'dm'
            when statuses.parent_message_id is not null then 'reply'
            when statuses.source_rank = 1 then 'mention'
            else 'post'
        end as message_type,
        statuses.created_at,
        case
            when statuses.author_id in (select account_id from owned where platform = 'mastodon')
                then statuses.in_reply_to_account_id
            else statuses.author_id
        end as counterpart_id
    from mastodon_statuses as statuses
    inner join mastodon_roots on statuses.message_id = mastodon_roots.message_id
),

{%- set shaped = ["x_public", "x_dm", "fb_posts", "graph_comments", "ig_media", "messenger",
                   "mastodon"] %}
{%- set columns = "platform, medium, message_id, owned_account_id, author_id, thread_id,
        parent_message_id, text, lang, is_directed, message_type, created_at, counterpart_id" %}

unioned as (
    {%- for cte in shaped %}
    select {{ columns }}
    from {{ cte }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        -- ids
        {{ dbt.concat(["unioned.platform", "':'", "unioned.message_id"]) }} as message_key,
        unioned.platform,
        unioned.message_id,
        unioned.thread_id,
        unioned.parent_message_id,
        unioned.author_id,
        unioned.counterpart_id,
        coalesce(unioned.owned_account_id, author_owned.account_id) as owned_account_id,
        -- classification
        unioned.medium,
        unioned.message_type,
        case when author_owned.account_id is not null then 'outbound' else 'inbound' end
            as direction,
        unioned.is_directed and author_owned.account_id is null as is_directed_at_brand,
        -- text
        unioned.text,
        unioned.lang,
        -- timestamps
        unioned.created_at
    from unioned
    left join owned as author_owned
        on unioned.platform = author_owned.platform
        and unioned.author_id = author_owned.account_id
    -- deleted on the platform (left out before incremental_reprocess, so a deleted message
    -- never counts as new and widens the window)
    where {{ dbt.concat(["unioned.platform", "':'", "unioned.message_id"]) }} not in (
        {{ tombstoned_message_keys() }}
    )
)

{% if is_incremental() %}
{{ incremental_reprocess('final', 'message_key', 'created_at') }}
{% else %}
select * from final
{% endif %}
