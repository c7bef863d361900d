-- Floor, step 3: first response. Each brand reply is timed against the closest earlier
-- inbound message not yet answered (the inbound messages since the brand's previous one);
-- a conversation's first response is its first such reply.
create or replace table floor.responses as
with
ordered as (
    select conversation_id, message_id, direction, created_at,
        coalesce(count(*) filter (where direction = 'outbound') over (
            partition by conversation_id order by created_at, message_id
            rows between unbounded preceding and 1 preceding), 0) as replies_before
    from floor.threaded
),
waiting as (
    select conversation_id, replies_before, min(created_at) as waiting_since_at,
        max(created_at) as closest_inbound_at, count(*) as inbound_answered
    from ordered
    where direction = 'inbound'
    group by conversation_id, replies_before
)
select r.conversation_id, r.message_id as reply_message_id, r.created_at as replied_at,
    w.closest_inbound_at, w.waiting_since_at, w.inbound_answered,
    date_diff('second', w.closest_inbound_at, r.created_at) / 60.0 as response_minutes,
    row_number() over (partition by r.conversation_id order by r.created_at, r.message_id) = 1
        as is_first_response
from ordered as r
inner join waiting as w using (conversation_id, replies_before)
where r.direction = 'outbound';

create or replace table floor.conversation_facts as
select c.*, o.team, r.response_minutes as first_response_minutes, r.replied_at as first_reply_at
from floor.conversations as c
left join floor.owned as o on o.platform = c.platform and o.account_id = c.account_id
left join floor.responses as r
    on r.conversation_id = c.conversation_id and r.is_first_response;
