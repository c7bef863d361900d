-- One row per team: display name, current staffing (team_capacity seed) and the owned
-- accounts whose inboxes it works. An 'unassigned' row appears while a source reads accounts
-- that owned_accounts does not list yet (int_owned_accounts).

with teams as (
    select team, team_name from {{ ref('teams') }}
    union all
    select distinct 'unassigned', 'Not assigned yet (accounts missing from owned_accounts)'
    from {{ ref('int_owned_accounts') }}
    where not is_configured
),

capacity as (
    select
        *,
        row_number() over (partition by team order by valid_from desc) as recency_rank
    from {{ ref('team_capacity') }}
),

accounts as (
    select team, count(*) as owned_accounts
    from {{ ref('int_owned_accounts') }}
    group by team
)

select
    teams.team,
    teams.team_name,
    cast(capacity.agents as {{ dbt.type_int() }}) as current_agents,
    cast(capacity.weekly_agent_hours as {{ type_double() }}) as current_weekly_agent_hours,
    capacity.valid_from as capacity_valid_from,
    cast(coalesce(accounts.owned_accounts, 0) as {{ dbt.type_bigint() }}) as owned_accounts
from teams
left join capacity on teams.team = capacity.team and capacity.recency_rank = 1
left join accounts on teams.team = accounts.team
