-- Followers of every platform user we have seen (people and owned accounts): one row per
-- (platform, user id), the most recent count: the one delivered with the newest message (X,
-- Mastodon) or the newest nightly account snapshot (the owned Facebook Pages and Instagram
-- accounts; Graph does not deliver follower counts of commenters). A current value, not a
-- history (stg_meta__accounts keeps the owned accounts' history).

with observations as (
    select 'x' as platform, author_id as user_id, author_followers_count as followers_count,
        created_at
    from {{ ref('stg_x__mentions') }}
    union all
    select 'x', author_id, author_followers_count, created_at
    from {{ ref('stg_x__search_results') }}
    union all
    select 'x', sender_id, sender_followers_count, created_at
    from {{ ref('stg_x__dm_events') }}
    union all
    -- the owned accounts' own posts carry their follower counts
    select 'x', author_id, author_followers_count, created_at
    from {{ ref('stg_x__posts') }}
    union all
    select 'mastodon', actor_id, actor_followers_count, created_at
    from {{ ref('stg_mastodon__notifications') }}
    union all
    select 'mastodon', author_id, author_followers_count, created_at
    from {{ ref('stg_mastodon__tag_statuses') }}
    union all
    select 'mastodon', author_id, author_followers_count, created_at
    from {{ ref('stg_mastodon__statuses') }}
    union all
    -- the owned Pages and Instagram accounts, read each night
    select platform, account_id, followers_count,
        cast(snapshot_date as {{ dbt.type_timestamp() }})
    from {{ ref('stg_meta__accounts') }}
),

ranked as (
    select
        *,
        row_number() over (
            partition by platform, user_id order by created_at desc, followers_count desc
        ) as recency_rank
    from observations
    where user_id is not null and followers_count is not null
)

select
    {{ dbt.concat(["platform", "':'", "user_id"]) }} as user_key,
    platform,
    user_id,
    cast(followers_count as {{ dbt.type_bigint() }}) as followers_count,
    created_at as observed_at
from ranked
where recency_rank = 1
