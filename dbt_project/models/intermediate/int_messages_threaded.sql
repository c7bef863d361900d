-- Messages with the conversation they belong to. A conversation is a thread between the brand
-- and one person (platform, medium, thread, counterpart); a direct-message thread idle for
-- more than var('dm_session_gap_hours') starts a new conversation. Threads in which the person
-- never addressed the brand and the brand never replied (keyword or hashtag posts) are not
-- conversations: their conversation_id is null.

with messages as (
    select * from {{ ref('int_messages') }}
),

owned as (
    select platform, account_id from {{ ref('int_owned_accounts') }}
),

candidates as (
    select messages.*
    from messages
    left join owned
        on messages.platform = owned.platform and messages.counterpart_id = owned.account_id
    where messages.counterpart_id is not null and owned.account_id is null
),

sequenced as (
    select
        *,
        lag(created_at) over (
            partition by platform, medium, thread_id, counterpart_id
            order by created_at, message_id
        ) as previous_at
    from candidates
),

flagged as (
    select
        *,
        case
            when previous_at is null then 1
            when medium = 'direct'
                and {{ dbt.datediff('previous_at', 'created_at', 'minute') }}
                    > {{ var('dm_session_gap_hours') }} * 60
                then 1
            else 0
        end as starts_session
    from sequenced
),

sessions as (
    select
        *,
        sum(starts_session) over (
            partition by platform, medium, thread_id, counterpart_id
            order by created_at, message_id
            rows between unbounded preceding and current row
        ) as session_number
    from flagged
),

keyed as (
    select
        message_key,
        first_value(message_key) over (
            partition by platform, medium, thread_id, counterpart_id, session_number
            order by created_at, message_id
        ) as conversation_id,
        is_directed_at_brand,
        direction
    from sessions
),

qualifying as (
    select conversation_id
    from keyed
    group by conversation_id
    having
        sum(case when is_directed_at_brand then 1 else 0 end) > 0
        or sum(case when direction = 'outbound' then 1 else 0 end) > 0
)

select
    messages.*,
    qualifying.conversation_id
from messages
left join keyed on messages.message_key = keyed.message_key
left join qualifying on keyed.conversation_id = qualifying.conversation_id
