-- The owned accounts' own posts (not replies) with the engagement counters the platforms
-- delivered at the last load. Grain: one owned post. Where a platform gives no comment
-- counter (Facebook) or one that lags (Mastodon), comments are counted from the comments and
-- replies the warehouse holds. Posts and comments deleted on the platform are left out.

with owned as (
    select platform, account_id from {{ ref('int_owned_accounts') }}
),

tombstoned as (
    {{ tombstoned_message_keys() }}
),

x_posts as (
    select * from {{ ref('stg_x__posts') }}
    where in_reply_to_user_id is null and replied_to_tweet_id is null
        and {{ dbt.concat(["'x:'", "tweet_id"]) }} not in (select message_key from tombstoned)
),

fb_posts as (
    select * from {{ ref('stg_meta__page_posts') }}
    where author_id = page_id
        and {{ dbt.concat(["'facebook:'", "post_id"]) }} not in (select message_key from tombstoned)
),

fb_comments as (
    select post_id, count(*) as comments
    from {{ ref('stg_meta__post_comments') }}
    where author_id <> page_id
        and {{ dbt.concat(["'facebook:'", "comment_id"]) }}
            not in (select message_key from tombstoned)
    group by post_id
),

ig_media as (
    select * from {{ ref('stg_meta__ig_media') }}
    where {{ dbt.concat(["'instagram:'", "media_id"]) }} not in (select message_key from tombstoned)
),

mastodon_posts as (
    select * from {{ ref('stg_mastodon__statuses') }}
    -- own posts: no reply, no DM, no boost of someone else's status
    where in_reply_to_id is null and visibility in ('public', 'unlisted')
        and reblog_of_status_id is null
        and {{ dbt.concat(["'mastodon:'", "status_id"]) }}
            not in (select message_key from tombstoned)
),

mastodon_replies as (
    select thread_id, count(*) as comments
    from {{ ref('int_messages') }}
    where platform = 'mastodon' and direction = 'inbound' and parent_message_id is not null
    group by thread_id
),

unioned as (
    select
        'x' as platform, tweet_id as post_id, owned_account_id, created_at,
        like_count as reactions, reply_count as comments,
        coalesce(retweet_count, 0) + coalesce(quote_count, 0) as shares,
        impression_count as impressions
    from x_posts
    union all
    select
        'facebook', fb_posts.post_id, fb_posts.page_id, fb_posts.created_at,
        fb_posts.reactions_count, coalesce(fb_comments.comments, 0),
        coalesce(fb_posts.shares_count, 0), fb_posts.impressions_count
    from fb_posts
    left join fb_comments on fb_posts.post_id = fb_comments.post_id
    union all
    select
        'instagram', media_id, account_id, created_at,
        like_count, comments_count, 0, cast(null as {{ dbt.type_bigint() }})
    from ig_media
    union all
    select
        'mastodon', mastodon_posts.status_id, mastodon_posts.owned_account_id,
        mastodon_posts.created_at, mastodon_posts.favourites_count,
        case
            when coalesce(mastodon_replies.comments, 0) > coalesce(mastodon_posts.replies_count, 0)
                then mastodon_replies.comments
            else mastodon_posts.replies_count
        end,
        mastodon_posts.reblogs_count, cast(null as {{ dbt.type_bigint() }})
    from mastodon_posts
    left join mastodon_replies on mastodon_posts.status_id = mastodon_replies.thread_id
)

select
    {{ dbt.concat(["unioned.platform", "':'", "unioned.post_id"]) }} as post_key,
    unioned.platform,
    unioned.post_id,
    unioned.owned_account_id,
    unioned.created_at as published_at,
    cast(coalesce(unioned.reactions, 0) as {{ dbt.type_bigint() }}) as reactions,
    cast(coalesce(unioned.comments, 0) as {{ dbt.type_bigint() }}) as comments,
    cast(coalesce(unioned.shares, 0) as {{ dbt.type_bigint() }}) as shares,
    cast(unioned.impressions as {{ dbt.type_bigint() }}) as impressions
from unioned
inner join owned
    on unioned.platform = owned.platform and unioned.owned_account_id = owned.account_id
