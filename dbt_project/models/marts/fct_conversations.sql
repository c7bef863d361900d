-- One row per conversation between the brand and one person: turns, first response time,
-- SLA, the person's sentiment before and after the brand's reply, resolution, and the
-- person's CRM journey stage when it started. The first response is the brand's first reply
-- timed against the closest earlier unanswered inbound message (int_response_pairs).
-- Spam: a conversation whose inbound messages are all spam (int_interactions_relevance, the
-- spam_markers seed) awaits no answer. It is listed (is_spam) but never unanswered, and the
-- SLA does not judge it (is_sla_met null), so giveaway bots do not count as breaches.

with messages as (
    select * from {{ ref('int_messages_threaded') }}
    where conversation_id is not null
),

accounts as (
    select * from {{ ref('int_owned_accounts') }}
),

sla as (
    select * from {{ ref('sla_policies') }}
),

spam_flags as (
    select message_key, is_spam from {{ ref('int_interactions_relevance') }}
    where is_message
),

as_of as (
    -- "now" for unanswered checks: the newest message the warehouse holds
    select max(created_at) as as_of_at from {{ ref('int_messages') }}
),

summary as (
    select
        conversation_id,
        platform,
        medium,
        max(counterpart_id) as counterpart_id,
        min(created_at) as started_at,
        max(created_at) as last_message_at,
        count(*) as turns,
        cast(sum(case when direction = 'inbound' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as inbound_messages,
        cast(sum(case when direction = 'outbound' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as outbound_messages,
        sum(case when direction = 'inbound' and spam_flags.is_spam then 1 else 0 end)
            as spam_inbound_messages,
        min(case when direction = 'inbound' then created_at end) as first_inbound_at
    from messages
    left join spam_flags on messages.message_key = spam_flags.message_key
    group by conversation_id, platform, medium
),

first_response as (
    select
        conversation_id,
        replied_at as first_response_at,
        inbound_at as first_response_inbound_at,
        response_minutes as first_response_minutes
    from {{ ref('int_response_pairs') }}
    where is_first_response
),

conversation_sentiment as (
    select * from {{ ref('int_conversation_sentiment') }}
),

account_ranked as (
    select
        conversation_id,
        owned_account_id,
        row_number() over (partition by conversation_id order by created_at, message_id)
            as account_rank
    from messages
    where owned_account_id is not null
),

identities as (
    select * from {{ ref('int_contact_identities') }}
),

stages as (
    select * from {{ ref('int_lifecycle_stage_intervals') }}
),

joined as (
    select
        summary.*,
        summary.inbound_messages > 0
            and summary.spam_inbound_messages = summary.inbound_messages as is_spam,
        first_response.first_response_at,
        first_response.first_response_inbound_at,
        first_response.first_response_minutes,
        conversation_sentiment.sentiment_before_reply,
        conversation_sentiment.sentiment_after_reply,
        conversation_sentiment.sentiment_end_after_reply,
        conversation_sentiment.sentiment_lift,
        conversation_sentiment.is_resolved,
        accounts.account_id as owned_account_id,
        accounts.purpose as account_purpose,
        accounts.team,
        cast(sla.first_response_minutes as {{ dbt.type_int() }}) as sla_minutes,
        identities.contact_id as crm_contact_id,
        as_of.as_of_at
    from summary
    cross join as_of
    left join first_response on summary.conversation_id = first_response.conversation_id
    left join conversation_sentiment
        on summary.conversation_id = conversation_sentiment.conversation_id
    left join account_ranked
        on summary.conversation_id = account_ranked.conversation_id
        and account_ranked.account_rank = 1
    left join accounts
        on summary.platform = accounts.platform
        and account_ranked.owned_account_id = accounts.account_id
    left join sla on accounts.purpose = sla.purpose
    left join identities
        on summary.platform = identities.platform
        and summary.counterpart_id = identities.platform_user_id
),

final as (
    select
        -- ids
        joined.conversation_id,
        {{ contact_key("joined.platform", "joined.counterpart_id") }} as contact_key,
        joined.owned_account_id,
        joined.crm_contact_id,
        -- dimensions
        joined.platform,
        joined.medium,
        joined.account_purpose,
        {{ dbt.concat(["joined.platform", "'_'", "joined.account_purpose"]) }} as channel,
        joined.team,
        coalesce(stages.stage, 'unknown') as journey_stage,
        -- counts
        joined.turns,
        joined.inbound_messages,
        joined.outbound_messages,
        -- response
        joined.is_spam,
        joined.first_response_at is not null as is_answered,
        joined.first_response_minutes,
        joined.sla_minutes,
        case
            when joined.first_response_at is null or joined.is_spam then null
            else joined.first_response_minutes <= joined.sla_minutes
        end as is_sla_met,
        not joined.is_spam
            and joined.first_inbound_at is not null
            and joined.first_response_at is null
            and {{ dbt.datediff("joined.first_inbound_at", "joined.as_of_at", "second") }}
                > joined.sla_minutes * 60 as is_unanswered,
        coalesce(joined.is_resolved, false) as is_resolved,
        -- sentiment
        joined.sentiment_before_reply,
        joined.sentiment_after_reply,
        joined.sentiment_end_after_reply,
        joined.sentiment_lift,
        -- timestamps
        joined.started_at,
        cast(joined.started_at as date) as started_on,
        joined.first_inbound_at,
        joined.first_response_inbound_at,
        joined.first_response_at,
        joined.last_message_at
    from joined
    left join stages
        on joined.crm_contact_id = stages.contact_id
        and joined.started_at >= stages.valid_from
        -- a plain range (no "or ... is null"), so engines can use a range join: with the
        -- "or" DuckDB fell back to a nested loop whose cost grew with the square of the data
        and joined.started_at < coalesce(stages.valid_to, cast('9999-12-31' as timestamp))
)

select * from final
