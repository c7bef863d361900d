-- One row per message or reaction on any platform: volumes by platform, type, direction, day,
-- with each message's sentiment (int_message_sentiment; null for reactions and messages
-- without text) and each inbound interaction's relevance to the brand
-- (int_interactions_relevance; null for the brand's own messages and reactions).
-- Incremental like int_messages: new interactions and var('lookback_days') before them are
-- rewritten each run (macro incremental_reprocess). Interactions deleted on the platform
-- (messages via int_messages, reactions to a deleted status or whose notification says the
-- status is gone) are left out, and the post-hooks remove those earlier runs wrote. Older rows
-- keep the relevance of the night they were written: after changing the spam_markers or
-- brand_keywords seeds, rebuild with --full-refresh (as after adding a column).

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

sentiment as (
    select message_key, sentiment_score, sentiment_label from {{ ref('int_message_sentiment') }}
),

relevance as (
    select interaction_id, relevance, relevance_factor
    from {{ ref('int_interactions_relevance') }}
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
        unioned.interaction_id,
        {{ contact_key("unioned.platform", "unioned.person_id") }} as contact_key,
        unioned.owned_account_id,
        unioned.conversation_id,
        -- classification
        unioned.platform,
        unioned.medium,
        unioned.interaction_type,
        unioned.direction,
        unioned.is_directed_at_brand,
        relevance.relevance,
        cast(relevance.relevance_factor as {{ type_double() }}) as relevance_factor,
        -- sentiment
        cast(sentiment.sentiment_score as {{ type_double() }}) as sentiment_score,
        sentiment.sentiment_label,
        -- timestamps
        unioned.created_at,
        cast(unioned.created_at as date) as created_on
    from unioned
    left join relevance on unioned.interaction_id = relevance.interaction_id
    left join sentiment on unioned.interaction_id = sentiment.message_key
)

{% if is_incremental() %}
{{ incremental_reprocess('final', 'interaction_id', 'created_at') }}
{% else %}
select * from final
{% endif %}
