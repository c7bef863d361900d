-- Every inbound interaction by a person (message or Mastodon reaction) with how much it says
-- about the person's involvement with the brand. Grain: one inbound interaction; interaction_id
-- matches fct_interactions.
--
-- Relevance rule, first match wins:
--   spam        text contains a spam_markers seed entry (giveaways, crypto): factor
--               var relevance_spam_factor, whatever else it says;
--   directed    addressed to the brand (mention, comment on an owned post, DM, reply in a
--               brand conversation): factor 1;
--   owned_content  a favourite, reblog or follow of an owned account: factor 1;
--   brand_keyword  names the brand, a product or the brand chat hashtag (brand_keywords seed):
--               factor 1;
--   off_topic   anything else (e.g. posts about competitors only): factor
--               var relevance_off_topic_factor.

with messages as (
    select * from {{ ref('int_messages_threaded') }}
    where direction = 'inbound'
),

reactions as (
    select * from {{ ref('stg_mastodon__notifications') }}
    where notification_type in ('favourite', 'reblog', 'follow')
        -- reactions to a status deleted on the platform are gone with it (macros/tombstones)
        and notification_key not in ({{ tombstoned_notification_keys() }})
        -- the brand favouriting its own posts is no person's involvement
        and actor_id not in (
            select account_id from {{ ref('int_owned_accounts') }} where platform = 'mastodon'
        )
),

keywords as (
    select * from {{ ref('brand_keywords') }}
),

spam_markers as (
    select * from {{ ref('spam_markers') }}
),

urgency_markers as (
    select * from {{ ref('urgency_markers') }}
),

weights as (
    select * from {{ ref('interaction_weights') }}
),

unioned as (
    select
        message_key as interaction_id,
        message_key,
        platform,
        author_id as person_id,
        message_type as interaction_type,
        true as is_message,
        is_directed_at_brand,
        owned_account_id,
        conversation_id,
        thread_id,
        -- the person spoke first: the message opens its conversation or belongs to none
        coalesce(conversation_id = message_key, true) as is_unprompted,
        lower(text) as text_lower,
        created_at
    from messages
    union all
    select
        {{ dbt.concat(["'mastodon:'", "notification_type", "':'", "notification_key"]) }},
        cast(null as {{ dbt.type_string() }}),
        'mastodon',
        actor_id,
        notification_type,
        false,
        false,
        owned_account_id,
        cast(null as {{ dbt.type_string() }}),
        cast(null as {{ dbt.type_string() }}),
        false,
        cast(null as {{ dbt.type_string() }}),
        created_at
    from reactions
),

flagged as (
    select
        unioned.*,
        exists (
            select 1 from spam_markers
            where {{ contains_text("unioned.text_lower", "spam_markers.marker") }}
        ) as is_spam,
        exists (
            select 1 from keywords
            where keywords.kind in ('brand', 'product')
                and {{ contains_text("unioned.text_lower", "keywords.keyword") }}
        ) as names_brand,
        exists (
            select 1 from keywords
            where keywords.kind = 'chat_hashtag'
                and {{ contains_text("unioned.text_lower", dbt.concat(["'#'", "keywords.keyword"])) }}
        ) as is_chat_participation,
        exists (
            select 1 from urgency_markers
            where {{ contains_text("unioned.text_lower", "urgency_markers.marker") }}
        ) as is_urgent
    from unioned
    where unioned.person_id is not null
),

classified as (
    select
        *,
        case
            when is_spam then 'spam'
            when is_directed_at_brand then 'directed'
            when not is_message and owned_account_id is not null then 'owned_content'
            when names_brand or is_chat_participation then 'brand_keyword'
            else 'off_topic'
        end as relevance
    from flagged
)

select
    -- ids
    classified.interaction_id,
    classified.message_key,
    {{ contact_key("classified.platform", "classified.person_id") }} as contact_key,
    classified.platform,
    classified.person_id,
    classified.owned_account_id,
    classified.conversation_id,
    classified.thread_id,
    -- classification
    classified.interaction_type,
    classified.is_message,
    classified.is_directed_at_brand,
    classified.is_unprompted,
    classified.is_spam,
    classified.names_brand,
    classified.is_chat_participation,
    classified.is_urgent,
    classified.relevance,
    -- weights
    cast(
        case classified.relevance
            when 'spam' then {{ var('relevance_spam_factor') }}
            when 'off_topic' then {{ var('relevance_off_topic_factor') }}
            else 1
        end as {{ type_double() }}
    ) as relevance_factor,
    cast(coalesce(weights.weight, 0) as {{ type_double() }}) as type_weight,
    -- timestamps
    classified.created_at
from classified
left join weights on classified.interaction_type = weights.interaction_type
