-- Floor, step 2: threading. A conversation is a thread between the brand and one person
-- (platform, medium, thread, counterpart); a direct-message thread idle for more than 72
-- hours (dbt var dm_session_gap_hours) starts a new one. Threads nobody addressed to the
-- brand and the brand never answered are no conversation (their messages stay in
-- floor.threaded but get no row in floor.conversations).
create or replace table floor.threaded as
with
candidates as (
    select m.*
    from floor.messages as m
    left join floor.owned as o on o.platform = m.platform and o.account_id = m.counterpart_id
    where m.counterpart_id is not null and o.account_id is null
),
flagged as (
    select *,
        case
            when lag(created_at) over thread is null then 1
            when medium = 'direct'
                and created_at - lag(created_at) over thread > interval 72 hours then 1
            else 0
        end as starts_session
    from candidates
    window thread as (partition by platform, medium, thread_id, counterpart_id
                      order by created_at, message_id)
),
sessions as (
    select *,
        sum(starts_session) over (
            partition by platform, medium, thread_id, counterpart_id
            order by created_at, message_id rows between unbounded preceding and current row
        ) as session_number
    from flagged
)
select *,
    first_value(message_id) over (
        partition by platform, medium, thread_id, counterpart_id, session_number
        order by created_at, message_id) as conversation_id
from sessions;

create or replace table floor.conversations as
select conversation_id, any_value(platform) as platform, any_value(medium) as medium,
    any_value(counterpart_id) as counterpart_id,
    coalesce(max(owned_account_id), any_value(owned_account_id)) as account_id,
    min(created_at) as started_at, max(created_at) as ended_at,
    count(*) filter (where direction = 'inbound') as inbound_messages,
    count(*) filter (where direction = 'outbound') as outbound_messages
from floor.threaded
group by conversation_id
having count(*) filter (where is_directed or direction = 'outbound') > 0;
