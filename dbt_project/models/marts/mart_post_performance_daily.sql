-- Engagement of the owned posts as read each night. Grain: one owned post x metrics day, the
-- UTC day of the newest message in the warehouse when the night ran (the data's "today").
-- Platforms only report lifetime counters, so each night appends one snapshot per post
-- published within var post_tracking_days; a rerun the same day replaces that day's rows
-- (incremental on mart_key). A full refresh keeps only the latest snapshot.
-- engagement_rate = (reactions + comments + shares) / impressions, or / the account's
-- followers when the platform gives no impressions; averages over posts are means of these
-- per-post rates (DOMAIN.md).

-- A post deleted on the platform leaves (int_owned_post_metrics no longer has it, and the
-- post-hook deletes the snapshots earlier nights appended).

{{ config(
    materialized='incremental',
    unique_key='mart_key',
    on_schema_change='fail',
    post_hook="{{ delete_tombstoned('post_key', tombstoned_message_keys()) }}",
) }}

with posts as (
    select * from {{ ref('int_owned_post_metrics') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

as_of as (
    select cast(max(created_at) as date) as metrics_date from {{ ref('int_messages') }}
),

tracked as (
    select
        posts.*,
        as_of.metrics_date,
        accounts.channel,
        accounts.team,
        accounts.followers_count
    from posts
    cross join as_of
    inner join accounts on posts.owned_account_id = accounts.account_id
    where cast(posts.published_at as date)
        > {{ dbt.dateadd('day', -1 * var('post_tracking_days'), 'as_of.metrics_date') }}
),

rated as (
    select
        *,
        reactions + comments + shares as engagements,
        case
            when impressions > 0 then 'impressions'
            when followers_count > 0 then 'followers'
        end as engagement_basis
    from tracked
)

select
    {{ dbt.concat(["post_key", "'|'", "cast(metrics_date as " ~ dbt.type_string() ~ ")"]) }}
        as mart_key,
    post_key,
    metrics_date as date_day,
    owned_account_id,
    platform,
    channel,
    team,
    published_at,
    cast(published_at as date) as published_on,
    reactions,
    comments,
    shares,
    impressions,
    followers_count,
    cast(engagements as {{ dbt.type_bigint() }}) as engagements,
    engagement_basis,
    cast(
        case engagement_basis
            when 'impressions' then 1.0 * engagements / impressions
            when 'followers' then 1.0 * engagements / followers_count
        end as {{ type_double() }}
    ) as engagement_rate
from rated
