-- Items the platforms say were deleted (tombstones), from the quarantine tables of the API
-- sources (ingestion quarantines them with var('tombstone_reason') and the deleted item's id).
-- Grain: one deleted item per raw table (source table, item id). message_key is the message
-- the deletion removes from int_messages, fct_interactions and every mart (macros in
-- macros/tombstones.sql); the list never holds the deleted content, only ids.
-- Incremental (merge on tombstone_key, earliest sighting kept): a quarantine row read again
-- is re-stamped, and a deletion stays listed and applied even if quarantine rows are pruned.
-- Reading the quarantine tables here rather than in staging: they are ingestion's reject log
-- (table variants of their resource, not dbt sources or Dagster assets of their own), and
-- only their tombstones are data (macro quarantined_tombstones).

{{ config(
    materialized='incremental',
    unique_key='tombstone_key',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
) }}

{#- (source, raw table, platform, what its item ids name) #}
{%- set quarantined = [
    ('x', 'mentions', 'x', 'message'),
    ('x', 'posts', 'x', 'message'),
    ('x', 'search_results', 'x', 'message'),
    ('x', 'dm_events', 'x', 'message'),
    ('meta', 'page_posts', 'facebook', 'message'),
    ('meta', 'post_comments', 'facebook', 'message'),
    ('meta', 'page_conversations', 'facebook', 'conversation'),
    ('meta', 'conversation_messages', 'facebook', 'message'),
    ('meta', 'ig_media', 'instagram', 'message'),
    ('meta', 'ig_comments', 'instagram', 'message'),
    ('mastodon', 'notifications', 'mastodon', 'notification'),
    ('mastodon', 'statuses', 'mastodon', 'message'),
    ('mastodon', 'conversations', 'mastodon', 'conversation'),
    ('mastodon', 'tag_statuses', 'mastodon', 'message'),
] %}

with

quarantined as (
    {%- for source_name, table_name, platform, item_kind in quarantined %}
    {{ quarantined_tombstones(source_name, table_name, platform, item_kind) }}
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

tombstones as (
    -- one item may be quarantined from several endpoints (owned accounts) or shapes
    select
        source_name, source_table, platform, item_kind, item_id,
        min(quarantined_at) as first_seen_at
    from quarantined
    group by source_name, source_table, platform, item_kind, item_id
),

notification_statuses as (
    -- Notification ids are unique on an instance: the status the notification was about,
    -- as the night that loaded it delivered it (the tombstone itself says nothing more).
    select notification_id, max(status_id) as status_id
    from {{ ref('stg_mastodon__notifications') }}
    where status_id is not null
    group by notification_id
),

conversation_statuses as (
    -- Mastodon drops a conversation only once all its statuses are deleted: its last status
    -- as loaded is one of them.
    select conversation_id, max(last_status_id) as last_status_id
    from {{ ref('stg_mastodon__conversations') }}
    group by conversation_id
),

resolved as (
    select
        -- ids
        {{ dbt.concat(["tombstones.source_name", "':'", "tombstones.source_table", "':'",
                       "tombstones.item_id"]) }} as tombstone_key,
        tombstones.platform,
        tombstones.source_name,
        tombstones.source_table,
        tombstones.item_kind,
        tombstones.item_id,
        case
            when tombstones.item_kind = 'message'
                then {{ dbt.concat(["tombstones.platform", "':'", "tombstones.item_id"]) }}
            when tombstones.source_table = 'notifications'
                then {{ dbt.concat(["'mastodon:'", "notification_statuses.status_id"]) }}
            when tombstones.source_name = 'mastodon' and tombstones.source_table = 'conversations'
                then {{ dbt.concat(["'mastodon:'", "conversation_statuses.last_status_id"]) }}
        end as message_key,
        -- timestamps
        tombstones.first_seen_at
    from tombstones
    left join notification_statuses
        on tombstones.source_table = 'notifications'
        and tombstones.item_id = notification_statuses.notification_id
    left join conversation_statuses
        on tombstones.source_name = 'mastodon' and tombstones.source_table = 'conversations'
        and tombstones.item_id = conversation_statuses.conversation_id
)

{% if is_incremental() %}
select
    resolved.tombstone_key,
    resolved.platform,
    resolved.source_name,
    resolved.source_table,
    resolved.item_kind,
    resolved.item_id,
    -- what the night that loaded the item resolved stays, should its raw row ever go
    coalesce(resolved.message_key, held.message_key) as message_key,
    case
        when held.first_seen_at < resolved.first_seen_at then held.first_seen_at
        else resolved.first_seen_at
    end as first_seen_at
from resolved
left join {{ this }} as held on resolved.tombstone_key = held.tombstone_key
{% else %}
select * from resolved
{% endif %}
