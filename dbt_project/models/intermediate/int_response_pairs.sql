-- Brand replies paired with the inbound message they answer: one row per brand reply that
-- follows at least one unanswered inbound message of its conversation. A reply is timed
-- against the closest earlier unanswered inbound (DOMAIN.md, First response time); an inbound
-- message is unanswered until the brand writes in the conversation after it. Outbound
-- messages with nothing unanswered before them (a second reply in a row) are not responses.

with messages as (
    select
        message_key,
        message_id,
        conversation_id,
        direction,
        created_at,
        -- ties on created_at are broken by message_id so the order is deterministic
        row_number() over (
            partition by conversation_id order by created_at, message_id
        ) as position
    from {{ ref('int_messages_threaded') }}
    where conversation_id is not null
),

replies as (
    select
        *,
        lag(position) over (partition by conversation_id order by position)
            as previous_reply_position
    from messages
    where direction = 'outbound'
),

awaiting as (
    -- inbound messages written since the brand's previous message and before this reply
    select
        replies.message_key as reply_message_key,
        replies.conversation_id,
        replies.created_at as replied_at,
        inbound.message_key as inbound_message_key,
        inbound.created_at as inbound_at,
        row_number() over (
            partition by replies.message_key order by inbound.position desc
        ) as closeness_rank,
        min(inbound.created_at) over (partition by replies.message_key) as waiting_since_at,
        count(*) over (partition by replies.message_key) as inbound_answered
    from replies
    inner join messages as inbound
        on replies.conversation_id = inbound.conversation_id
        and inbound.direction = 'inbound'
        and inbound.position < replies.position
        and inbound.position > coalesce(replies.previous_reply_position, 0)
),

paired as (
    select
        reply_message_key,
        conversation_id,
        inbound_message_key,
        replied_at,
        inbound_at,
        waiting_since_at,
        cast(inbound_answered as {{ dbt.type_int() }}) as inbound_answered,
        {{ dbt.datediff("inbound_at", "replied_at", "second") }} / 60.0 as response_minutes,
        {{ dbt.datediff("waiting_since_at", "replied_at", "second") }} / 60.0 as wait_minutes
    from awaiting
    where closeness_rank = 1
)

select
    *,
    row_number() over (partition by conversation_id order by replied_at, reply_message_key)
        = 1 as is_first_response
from paired
