-- Responsiveness per day x channel x team. Grain: one UTC day x channel (platform_purpose) x
-- team, for every day and owned account that received inbound messages or replies.
-- Conversations are counted on the day their first inbound message arrived; first response,
-- SLA and unanswered figures come from fct_conversations. Replies are every brand reply that
-- answers an inbound message (int_response_pairs), counted on the day they were written.
-- Spam conversations (fct_conversations.is_spam: every inbound message spam) await no answer:
-- they are counted in spam_conversations only, never in the conversation, response, SLA,
-- unanswered or reply figures. inbound_messages counts every message addressed to the brand,
-- spam included (the load that reaches the inbox).

with accounts as (
    select * from {{ ref('dim_accounts') }}
),

messages as (
    select * from {{ ref('int_messages_threaded') }}
    where direction = 'inbound' and is_directed_at_brand
),

all_conversations as (
    select * from {{ ref('fct_conversations') }}
    where first_inbound_at is not null
),

conversations as (
    -- the ones that await an answer
    select * from all_conversations
    where not is_spam
),

pairs as (
    select * from {{ ref('int_response_pairs') }}
),

inbound as (
    select
        cast(messages.created_at as date) as date_day,
        accounts.channel,
        accounts.team,
        count(*) as inbound_messages
    from messages
    inner join accounts on messages.owned_account_id = accounts.account_id
    group by cast(messages.created_at as date), accounts.channel, accounts.team
),

first_responses as (
    select
        cast(first_inbound_at as date) as date_day,
        channel,
        team,
        count(*) as conversations,
        sum(case when is_answered then 1 else 0 end) as answered_conversations,
        {{ percentile('first_response_minutes', 0.5) }} as median_first_response_minutes,
        {{ percentile('first_response_minutes', 0.9) }} as p90_first_response_minutes,
        sum(case when is_sla_met then 1 else 0 end) as sla_met,
        sum(case when is_sla_met = false then 1 else 0 end) as sla_breached_late,
        sum(case when is_unanswered then 1 else 0 end) as unanswered_overdue
    from conversations
    group by cast(first_inbound_at as date), channel, team
),

spam as (
    select
        cast(first_inbound_at as date) as date_day,
        channel,
        team,
        count(*) as spam_conversations
    from all_conversations
    where is_spam
    group by cast(first_inbound_at as date), channel, team
),

replies as (
    select
        cast(pairs.replied_at as date) as date_day,
        conversations.channel,
        conversations.team,
        count(*) as replies,
        {{ percentile('pairs.response_minutes', 0.5) }} as median_reply_minutes
    from pairs
    inner join conversations on pairs.conversation_id = conversations.conversation_id
    group by cast(pairs.replied_at as date), conversations.channel, conversations.team
),

keys as (
    select date_day, channel, team from inbound
    union
    select date_day, channel, team from first_responses
    union
    select date_day, channel, team from spam
    union
    select date_day, channel, team from replies
),

final as (
    select
        keys.date_day,
        keys.channel,
        keys.team,
        coalesce(inbound.inbound_messages, 0) as inbound_messages,
        coalesce(first_responses.conversations, 0) as conversations,
        coalesce(first_responses.answered_conversations, 0) as answered_conversations,
        first_responses.median_first_response_minutes,
        first_responses.p90_first_response_minutes,
        coalesce(first_responses.sla_met, 0) as sla_met,
        coalesce(first_responses.sla_breached_late, 0) as sla_breached_late,
        coalesce(first_responses.unanswered_overdue, 0) as unanswered_overdue,
        coalesce(spam.spam_conversations, 0) as spam_conversations,
        coalesce(replies.replies, 0) as replies,
        replies.median_reply_minutes
    from keys
    left join inbound
        on keys.date_day = inbound.date_day
        and keys.channel = inbound.channel
        and keys.team = inbound.team
    left join first_responses
        on keys.date_day = first_responses.date_day
        and keys.channel = first_responses.channel
        and keys.team = first_responses.team
    left join spam
        on keys.date_day = spam.date_day
        and keys.channel = spam.channel
        and keys.team = spam.team
    left join replies
        on keys.date_day = replies.date_day
        and keys.channel = replies.channel
        and keys.team = replies.team
)

select
    {{ dbt.concat(["cast(date_day as " ~ dbt.type_string() ~ ")", "'|'", "channel", "'|'", "team"]) }}
        as mart_key,
    date_day,
    channel,
    team,
    cast(inbound_messages as {{ dbt.type_bigint() }}) as inbound_messages,
    cast(conversations as {{ dbt.type_bigint() }}) as conversations,
    cast(answered_conversations as {{ dbt.type_bigint() }}) as answered_conversations,
    cast(median_first_response_minutes as {{ type_double() }})
        as median_first_response_minutes,
    cast(p90_first_response_minutes as {{ type_double() }}) as p90_first_response_minutes,
    cast(sla_met as {{ dbt.type_bigint() }}) as sla_met,
    cast(sla_breached_late + unanswered_overdue as {{ dbt.type_bigint() }}) as sla_breaches,
    cast(unanswered_overdue as {{ dbt.type_bigint() }}) as unanswered,
    cast(conversations - answered_conversations - unanswered_overdue as {{ dbt.type_bigint() }})
        as awaiting_within_sla,
    cast(spam_conversations as {{ dbt.type_bigint() }}) as spam_conversations,
    cast(replies as {{ dbt.type_bigint() }}) as replies,
    cast(median_reply_minutes as {{ type_double() }}) as median_reply_minutes
from final
