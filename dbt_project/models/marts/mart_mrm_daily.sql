-- MRMs per day x team x channel x journey stage, with the conversations the brand replied to
-- and the MRM rates; team = 'company' is the company-wide roll-up. Tagged and detected MRMs
-- are counted apart and together (an MRM both tagged and detected counts once in mrms).

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

counted as (
    select
        started_on,
        team,
        channel,
        journey_stage,
        count(*) as mrms,
        sum(case when mrm_source in ('tagged', 'both') then 1 else 0 end) as tagged_mrms,
        sum(case when mrm_source in ('detected', 'both') then 1 else 0 end) as detected_mrms,
        sum(case when mrm_source = 'both' then 1 else 0 end) as tagged_and_detected_mrms
    from mrms
    group by started_on, team, channel, journey_stage
),

final as (
    select
        coalesce(replied.started_on, counted.started_on) as date_day,
        coalesce(replied.team, counted.team) as team,
        coalesce(replied.channel, counted.channel) as channel,
        coalesce(replied.journey_stage, counted.journey_stage) as journey_stage,
        coalesce(counted.tagged_mrms, 0) as tagged_mrms,
        coalesce(counted.detected_mrms, 0) as detected_mrms,
        coalesce(counted.tagged_and_detected_mrms, 0) as tagged_and_detected_mrms,
        coalesce(counted.mrms, 0) as mrms,
        coalesce(replied.conversations_with_reply, 0) as conversations_with_reply
    from replied
    full outer join counted
        on replied.started_on = counted.started_on
        and replied.team = counted.team
        and replied.channel = counted.channel
        and replied.journey_stage = counted.journey_stage
)

select
    {{ dbt.concat(["cast(date_day as " ~ dbt.type_string() ~ ")", "'|'", "team", "'|'", "channel", "'|'", "journey_stage"]) }}
        as mart_key,
    date_day,
    team,
    channel,
    journey_stage,
    cast(tagged_mrms as {{ dbt.type_bigint() }}) as tagged_mrms,
    cast(detected_mrms as {{ dbt.type_bigint() }}) as detected_mrms,
    cast(tagged_and_detected_mrms as {{ dbt.type_bigint() }}) as tagged_and_detected_mrms,
    cast(mrms as {{ dbt.type_bigint() }}) as mrms,
    cast(conversations_with_reply as {{ dbt.type_bigint() }}) as conversations_with_reply,
    case
        when conversations_with_reply > 0
            then cast(tagged_mrms as {{ dbt.type_float() }}) / conversations_with_reply
    end as tagged_mrm_rate,
    case
        when conversations_with_reply > 0
            then cast(detected_mrms as {{ dbt.type_float() }}) / conversations_with_reply
    end as detected_mrm_rate,
    case
        when conversations_with_reply > 0
            then cast(mrms as {{ dbt.type_float() }}) / conversations_with_reply
    end as mrm_rate
from final
