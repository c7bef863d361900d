-- Floor, step 4: the daily response roll-up: per day, platform, account and team the
-- conversations started, answered and unanswered, and the median and p90 first response.
create or replace table floor.response_daily as
select cast(started_at as date) as day, platform, account_id, team,
    count(*) as conversations,
    count(first_response_minutes) as answered,
    count(*) filter (where first_response_minutes is null and inbound_messages > 0)
        as unanswered,
    median(first_response_minutes) as median_first_response_minutes,
    quantile_cont(first_response_minutes, 0.9) as p90_first_response_minutes
from floor.conversation_facts
where inbound_messages > 0
group by all;
