-- MRMs per day x team x channel x journey stage, with the conversations the brand replied to
-- and the MRM rate; team = 'company' is the company-wide roll-up.

with conversations as (
    select * from {{ ref('fct_conversations') }}
    where is_answered
),

mrms as (
    select * from {{ ref('fct_mrm') }}
),

replied as (
    select started_on, team, channel, journey_stage, count(*) as conversations_with_reply
    from conversations
    group by started_on, team, channel, journey_stage
    union all
    select started_on, 'company', channel, journey_stage, count(*)
    from conversations
    group by started_on, channel, journey_stage
),

tagged as (
    select started_on, team, channel, journey_stage, count(*) as tagged_mrms
    from mrms
    group by started_on, team, channel, journey_stage
),

final as (
    select
        coalesce(replied.started_on, tagged.started_on) as date_day,
        coalesce(replied.team, tagged.team) as team,
        coalesce(replied.channel, tagged.channel) as channel,
        coalesce(replied.journey_stage, tagged.journey_stage) as journey_stage,
        coalesce(tagged.tagged_mrms, 0) as tagged_mrms,
        coalesce(replied.conversations_with_reply, 0) as conversations_with_reply
    from replied
    full outer join tagged
        on replied.started_on = tagged.started_on
        and replied.team = tagged.team
        and replied.channel = tagged.channel
        and replied.journey_stage = tagged.journey_stage
)

select
    {{ dbt.concat(["cast(date_day as " ~ dbt.type_string() ~ ")", "'|'", "team", "'|'", "channel", "'|'", "journey_stage"]) }}
        as mart_key,
    date_day,
    team,
    channel,
    journey_stage,
    tagged_mrms,
    conversations_with_reply,
    case
        when conversations_with_reply > 0
            then cast(tagged_mrms as {{ dbt.type_float() }}) / conversations_with_reply
    end as mrm_rate
from final
