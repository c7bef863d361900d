-- Platform ids linked to one CRM contact: one row per (platform, platform user id).

with contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

unpivoted as (
    select 'x' as platform, x_user_id as platform_user_id, contact_id from contacts
    union all
    select 'facebook', facebook_user_id, contact_id from contacts
    union all
    select 'instagram', instagram_user_id, contact_id from contacts
    union all
    select 'mastodon', mastodon_account_id, contact_id from contacts
),

ranked as (
    -- should two contacts claim one handle, the lowest contact id wins (deterministic)
    select
        *,
        row_number() over (partition by platform, platform_user_id order by contact_id)
            as claim_rank
    from unpivoted
    where platform_user_id is not null
)

select
    {{ dbt.concat(["platform", "':'", "platform_user_id"]) }} as identity_key,
    platform,
    platform_user_id,
    contact_id
from ranked
where claim_rank = 1
