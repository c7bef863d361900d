-- Behaviour of each person over the rolling involvement window: the evidence dim_contacts
-- segments on. Grain: one platform identity (contact_key). A person the CRM links across
-- platforms (int_contact_identities) is scored once over all of their identities, and every
-- identity carries that person's figures (person_key tells them apart).
--
-- The window is the var involvement_window_days days up to the newest message in the
-- warehouse. Involvement score = sum over the window of
--   type weight (interaction_weights seed) x relevance factor (int_interactions_relevance)
--   x var hashtag_chat_multiplier for brand hashtag chat posts
--   x 0.5 ^ (age in days / var involvement_half_life_days).
-- Tone figures (positive, negative, unprompted praise, threads, bursts, sentiment drops) count
-- written messages that are neither spam nor off-topic. The sentiment drop between two
-- consecutive scored tone messages of the person is previous score - next score: only a fall
-- counts (a person calmed or delighted after a fix rose, and is not panicked by it).

with interactions as (
    select * from {{ ref('int_interactions_relevance') }}
),

sentiment as (
    select message_key, sentiment_score, sentiment_label from {{ ref('int_message_sentiment') }}
),

threaded as (
    select * from {{ ref('int_messages_threaded') }}
),

owned as (
    select platform, account_id from {{ ref('int_owned_accounts') }}
),

crm_links as (
    select * from {{ ref('int_contact_identities') }}
),

crm_stages as (
    select contact_id, stage from {{ ref('int_lifecycle_stage_intervals') }}
    where valid_to is null
),

followers as (
    select * from {{ ref('int_platform_user_followers') }}
),

as_of as (
    select max(created_at) as as_of_at from threaded
),

platform_users as (
    -- everyone fct_interactions or fct_conversations can name: authors, reactors, counterparts
    select platform, person_id as user_id from interactions
    union
    select threaded.platform, threaded.counterpart_id
    from threaded
    left join owned
        on threaded.platform = owned.platform and threaded.counterpart_id = owned.account_id
    where threaded.conversation_id is not null
        and threaded.counterpart_id is not null
        and owned.account_id is null
),

identities as (
    select
        {{ contact_key("platform_users.platform", "platform_users.user_id") }} as contact_key,
        case
            when crm_links.contact_id is not null
                then {{ contact_key("'crm'", "crm_links.contact_id") }}
            else {{ contact_key("platform_users.platform", "platform_users.user_id") }}
        end as person_key,
        platform_users.platform,
        platform_users.user_id,
        crm_links.contact_id as crm_contact_id,
        followers.followers_count
    from platform_users
    left join crm_links
        on platform_users.platform = crm_links.platform
        and platform_users.user_id = crm_links.platform_user_id
    left join followers
        on platform_users.platform = followers.platform
        and platform_users.user_id = followers.user_id
),

windowed as (
    select
        interactions.*,
        identities.person_key,
        sentiment.sentiment_score,
        sentiment.sentiment_label,
        {{ dbt.datediff("interactions.created_at", "as_of.as_of_at", "second") }} / 86400.0
            as age_days,
        interactions.is_message
            and interactions.relevance not in ('spam', 'off_topic') as counts_for_tone
    from interactions
    inner join identities
        on interactions.platform = identities.platform
        and interactions.person_id = identities.user_id
    cross join as_of
    left join sentiment on interactions.message_key = sentiment.message_key
    where interactions.created_at <= as_of.as_of_at
        and interactions.created_at
            > {{ dbt.dateadd("day", -1 * var('involvement_window_days'), "as_of.as_of_at") }}
),

scored as (
    select
        *,
        type_weight
            * relevance_factor
            * case when is_chat_participation then {{ var('hashtag_chat_multiplier') }} else 1 end
            * power(0.5, age_days / {{ var('involvement_half_life_days') }}) as points
    from windowed
),

tone_messages as (
    select * from scored where counts_for_tone
),

bursts as (
    -- the person's messages within the burst window ending at each message
    select
        later.person_key,
        later.interaction_id,
        count(*) as burst_messages
    from tone_messages as later
    inner join tone_messages as earlier
        on later.person_key = earlier.person_key
        and earlier.created_at <= later.created_at
        and earlier.created_at >= {{ dbt.dateadd(
            "minute", -1 * var('segment_panicked_burst_minutes'), "later.created_at") }}
    group by later.person_key, later.interaction_id
),

drops as (
    -- how far the score fell from the person's previous scored tone message to this one
    -- (negative when it rose): a mood lifted by a fix is no sign of panic
    select
        person_key,
        lag(sentiment_score) over (
            partition by person_key order by created_at, interaction_id
        ) - sentiment_score as sentiment_drop
    from tone_messages
    where sentiment_score is not null
),

per_person as (
    select
        person_key,
        count(*) as interactions,
        sum(case when is_message then 1 else 0 end) as messages,
        sum(case when is_message then 0 else 1 end) as reactions,
        sum(case when relevance in ('directed', 'owned_content', 'brand_keyword') then 1 else 0 end)
            as relevant_interactions,
        sum(case when relevance = 'spam' then 1 else 0 end) as spam_messages,
        sum(case when relevance = 'off_topic' then 1 else 0 end) as off_topic_interactions,
        sum(points) as involvement_score,
        sum(case when counts_for_tone and sentiment_label is not null then 1 else 0 end)
            as scored_messages,
        sum(case when counts_for_tone and sentiment_label = 'positive' then 1 else 0 end)
            as positive_messages,
        sum(case when counts_for_tone and sentiment_label = 'negative' then 1 else 0 end)
            as negative_messages,
        sum(
            case
                when counts_for_tone and sentiment_label = 'positive' and is_unprompted then 1
                else 0
            end
        ) as unprompted_positive_posts,
        sum(case when counts_for_tone and is_chat_participation then 1 else 0 end)
            as hashtag_chat_posts,
        sum(case when counts_for_tone and is_urgent then 1 else 0 end) as urgent_messages,
        count(
            distinct case
                when counts_for_tone then {{ dbt.concat(["platform", "':'", "thread_id"]) }}
            end
        ) as distinct_threads,
        avg(case when counts_for_tone then sentiment_score end) as mean_sentiment
    from scored
    group by person_key
),

person_bursts as (
    select person_key, max(burst_messages) as max_burst_messages
    from bursts
    group by person_key
),

person_drops as (
    select
        person_key,
        case
            when max(sentiment_drop) < 0 then 0
            else max(sentiment_drop)
        end as max_sentiment_drop
    from drops
    group by person_key
),

person_reach as (
    select
        person_key,
        count(*) as linked_identities,
        max(followers_count) as followers_count,
        max(crm_contact_id) as crm_contact_id
    from identities
    group by person_key
),

ever as (
    select
        identities.person_key,
        min(interactions.created_at) as first_interaction_at,
        max(interactions.created_at) as last_interaction_at
    from interactions
    inner join identities
        on interactions.platform = identities.platform
        and interactions.person_id = identities.user_id
    group by identities.person_key
)

select
    -- ids
    identities.contact_key,
    identities.person_key,
    identities.platform,
    identities.user_id,
    person_reach.crm_contact_id,
    -- reach and journey
    cast(person_reach.linked_identities as {{ dbt.type_bigint() }}) as linked_identities,
    cast(person_reach.followers_count as {{ dbt.type_bigint() }}) as followers_count,
    coalesce(crm_stages.stage, 'unknown') as journey_stage,
    -- activity in the window
    cast(coalesce(per_person.interactions, 0) as {{ dbt.type_bigint() }}) as interactions,
    cast(coalesce(per_person.messages, 0) as {{ dbt.type_bigint() }}) as messages,
    cast(coalesce(per_person.reactions, 0) as {{ dbt.type_bigint() }}) as reactions,
    cast(coalesce(per_person.relevant_interactions, 0) as {{ dbt.type_bigint() }})
        as relevant_interactions,
    cast(coalesce(per_person.spam_messages, 0) as {{ dbt.type_bigint() }}) as spam_messages,
    cast(coalesce(per_person.off_topic_interactions, 0) as {{ dbt.type_bigint() }})
        as off_topic_interactions,
    -- rounded: a parallel sum of doubles may differ in the last bits from run to run
    cast(round(coalesce(per_person.involvement_score, 0), 6) as {{ type_double() }})
        as involvement_score,
    -- tone in the window
    cast(coalesce(per_person.scored_messages, 0) as {{ dbt.type_bigint() }}) as scored_messages,
    cast(coalesce(per_person.positive_messages, 0) as {{ dbt.type_bigint() }})
        as positive_messages,
    cast(coalesce(per_person.negative_messages, 0) as {{ dbt.type_bigint() }})
        as negative_messages,
    cast(
        case
            when per_person.scored_messages > 0
                then 1.0 * per_person.positive_messages / per_person.scored_messages
        end as {{ type_double() }}
    ) as positive_share,
    cast(
        case
            when per_person.scored_messages > 0
                then 1.0 * per_person.negative_messages / per_person.scored_messages
        end as {{ type_double() }}
    ) as negative_share,
    cast(round(per_person.mean_sentiment, 6) as {{ type_double() }}) as mean_sentiment,
    cast(coalesce(per_person.unprompted_positive_posts, 0) as {{ dbt.type_bigint() }})
        as unprompted_positive_posts,
    cast(coalesce(per_person.hashtag_chat_posts, 0) as {{ dbt.type_bigint() }})
        as hashtag_chat_posts,
    cast(coalesce(per_person.distinct_threads, 0) as {{ dbt.type_bigint() }}) as distinct_threads,
    cast(coalesce(per_person.urgent_messages, 0) as {{ dbt.type_bigint() }}) as urgent_messages,
    cast(coalesce(person_bursts.max_burst_messages, 0) as {{ dbt.type_bigint() }})
        as max_burst_messages,
    -- rounded: the panicked rule compares it with a var, and a difference of doubles can fall
    -- short of a threshold it equals in decimals (0.6 - -0.3 < 0.9)
    cast(round(person_drops.max_sentiment_drop, 6) as {{ type_double() }})
        as max_sentiment_drop,
    -- timestamps
    ever.first_interaction_at,
    ever.last_interaction_at,
    as_of.as_of_at
from identities
cross join as_of
inner join person_reach on identities.person_key = person_reach.person_key
left join per_person on identities.person_key = per_person.person_key
left join person_bursts on identities.person_key = person_bursts.person_key
left join person_drops on identities.person_key = person_drops.person_key
left join ever on identities.person_key = ever.person_key
left join crm_stages on person_reach.crm_contact_id = crm_stages.contact_id
