-- The accounts the brand owns: the owned_accounts seed, plus every account a source loaded
-- messages for that the seed does not list yet. Those get purpose and team 'unassigned'
-- (is_configured false), so a newly connected account's conversations count in the marts
-- under 'unassigned' instead of stopping the night at a not-null test; the warn-level test on
-- is_configured names them in every run until someone adds them to the seed.

with configured as (
    select platform, account_id, handle, purpose, team
    from {{ ref('owned_accounts') }}
),

read_by_sources as (
    select 'x' as platform, owned_account_id as account_id from {{ ref('stg_x__mentions') }}
    union
    select 'x', owned_account_id from {{ ref('stg_x__posts') }}
    union
    select 'x', owned_account_id from {{ ref('stg_x__dm_events') }}
    union
    select 'mastodon', owned_account_id from {{ ref('stg_mastodon__notifications') }}
    union
    select 'mastodon', owned_account_id from {{ ref('stg_mastodon__statuses') }}
    union
    select 'facebook', page_id from {{ ref('stg_meta__page_posts') }}
    union
    select 'facebook', page_id from {{ ref('stg_meta__post_comments') }}
    union
    select 'facebook', page_id from {{ ref('stg_meta__conversation_messages') }}
    union
    select 'instagram', account_id from {{ ref('stg_meta__ig_media') }}
    union
    select 'instagram', account_id from {{ ref('stg_meta__ig_comments') }}
),

unlisted as (
    select read_by_sources.platform, read_by_sources.account_id
    from read_by_sources
    left join configured
        on read_by_sources.platform = configured.platform
        and read_by_sources.account_id = configured.account_id
    where read_by_sources.account_id is not null and configured.account_id is null
)

select platform, account_id, handle, purpose, team, true as is_configured
from configured
union all
select
    platform,
    account_id,
    cast(null as {{ dbt.type_string() }}) as handle,
    'unassigned' as purpose,
    'unassigned' as team,
    false as is_configured
from unlisted
