-- Reach against manpower per week x team. Grain: one week (Monday, UTC) x team, every week
-- of dim_date. Agent-hours come from the team_capacity seed row valid on the week's Monday;
-- the load the team carries from the owned accounts it works (dim_accounts.team).
-- followers_count is the follower count the platforms last delivered for the team's accounts
-- (platforms report current counts, not history, so it is the same for every week);
-- new_followers counts follow notifications (Mastodon) in the week.

with weeks as (
    select distinct week_start from {{ ref('dim_date') }}
),

teams as (
    select team from {{ ref('dim_teams') }}
),

capacity as (
    select * from {{ ref('team_capacity') }}
),

accounts as (
    select * from {{ ref('dim_accounts') }}
),

interactions as (
    select * from {{ ref('int_interactions_relevance') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
    where first_inbound_at is not null
),

staffing as (
    select
        weeks.week_start,
        capacity.team,
        capacity.agents,
        capacity.weekly_agent_hours,
        row_number() over (
            partition by weeks.week_start, capacity.team order by capacity.valid_from desc
        ) as recency_rank
    from weeks
    inner join capacity on capacity.valid_from <= weeks.week_start
),

reach as (
    select team, sum(followers_count) as followers_count
    from accounts
    group by team
),

load as (
    select
        cast({{ dbt.date_trunc('week', 'interactions.created_at') }} as date) as week_start,
        accounts.team,
        sum(case when interactions.is_directed_at_brand then 1 else 0 end) as inbound_messages,
        count(*) as inbound_interactions,
        sum(case when interactions.interaction_type = 'follow' then 1 else 0 end)
            as new_followers
    from interactions
    inner join accounts on interactions.owned_account_id = accounts.account_id
    group by cast({{ dbt.date_trunc('week', 'interactions.created_at') }} as date), accounts.team
),

answering as (
    select
        cast({{ dbt.date_trunc('week', 'first_inbound_at') }} as date) as week_start,
        team,
        count(*) as conversations,
        sum(case when is_answered then 1 else 0 end) as answered_conversations
    from conversations
    group by cast({{ dbt.date_trunc('week', 'first_inbound_at') }} as date), team
),

final as (
    select
        weeks.week_start,
        teams.team,
        staffing.agents,
        staffing.weekly_agent_hours,
        reach.followers_count,
        coalesce(load.new_followers, 0) as new_followers,
        coalesce(load.inbound_messages, 0) as inbound_messages,
        coalesce(load.inbound_interactions, 0) as inbound_interactions,
        coalesce(answering.conversations, 0) as conversations,
        coalesce(answering.answered_conversations, 0) as answered_conversations
    from weeks
    cross join teams
    left join staffing
        on weeks.week_start = staffing.week_start
        and teams.team = staffing.team
        and staffing.recency_rank = 1
    left join reach on teams.team = reach.team
    left join load on weeks.week_start = load.week_start and teams.team = load.team
    left join answering
        on weeks.week_start = answering.week_start and teams.team = answering.team
)

select
    {{ dbt.concat(["cast(week_start as " ~ dbt.type_string() ~ ")", "'|'", "team"]) }}
        as mart_key,
    week_start,
    team,
    cast(agents as {{ dbt.type_int() }}) as agents,
    cast(weekly_agent_hours as {{ type_double() }}) as agent_hours,
    cast(followers_count as {{ dbt.type_bigint() }}) as followers_count,
    cast(new_followers as {{ dbt.type_bigint() }}) as new_followers,
    cast(inbound_messages as {{ dbt.type_bigint() }}) as inbound_messages,
    cast(inbound_interactions as {{ dbt.type_bigint() }}) as inbound_interactions,
    cast(conversations as {{ dbt.type_bigint() }}) as conversations,
    cast(answered_conversations as {{ dbt.type_bigint() }}) as answered_conversations,
    cast(
        case when conversations > 0 then 1.0 * answered_conversations / conversations end
        as {{ type_double() }}
    ) as answered_share,
    cast(
        case when weekly_agent_hours > 0 then inbound_messages / weekly_agent_hours end
        as {{ type_double() }}
    ) as interactions_per_agent_hour,
    cast(
        case when weekly_agent_hours > 0 then followers_count / weekly_agent_hours end
        as {{ type_double() }}
    ) as followers_per_agent_hour
from final
