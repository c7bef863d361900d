-- One row per message or reaction on any platform: volumes by platform, type, direction, day.
-- Incremental like int_messages: new interactions and var('lookback_days') before them are
-- rewritten each run (macro incremental_reprocess). Interactions deleted on the platform
-- (messages via int_messages, reactions to a deleted status or whose notification says the
-- status is gone) are left out, and the post-hooks remove those earlier runs wrote.

{{ config(
    materialized='incremental',
    unique_key='interaction_id',
    incremental_strategy='delete+insert',
    on_schema_change='fail',
    post_hook=[
        "{{ reassign_conversations_of_tombstoned() }}",
        "{{ delete_tombstoned('interaction_id', tombstoned_interaction_ids()) }}",
    ],
) }}

with messages as (
    select * from {{ ref('int_messages_threaded') }}
),

reactions as (
    select * from {{ ref('stg_mastodon__notifications') }}
    where notification_type in ('favourite', 'reblog', 'follow')
        and notification_key not in ({{ tombstoned_notification_keys() }})
),

unioned as (
    select
        message_key as interaction_id,
        platform,
        medium,
        message_type as interaction_type,
        direction,
        is_directed_at_brand,
        owned_account_id,
        conversation_id,
        case when direction = 'inbound' then author_id end as person_id,
        created_at
    from messages
    union all
    select
        {{ dbt.concat(["'mastodon:'", "notification_type", "':'", "notification_key"]) }},
        'mastodon',
        'public',
        notification_type,
        'inbound',
        false,
        owned_account_id,
        cast(null as varchar),
        actor_id,
        created_at
    from reactions
),

final as (
    select
        -- ids
        interaction_id,
        {{ contact_key("platform", "person_id") }} as contact_key,
        owned_account_id,
        conversation_id,
        -- classification
        platform,
        medium,
        interaction_type,
        direction,
        is_directed_at_brand,
        -- timestamps
        created_at,
        cast(created_at as date) as created_on
    from unioned
)

{% if is_incremental() %}
{{ incremental_reprocess('final', 'interaction_id', 'created_at') }}
{% else %}
select * from final
{% endif %}
