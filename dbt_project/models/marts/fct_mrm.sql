-- One row per MRM: a conversation credited to a team by that team's inbox tag, plus one
-- company-wide row (team = 'company') for every conversation carrying any MRM tag.

with tags as (
    select * from {{ ref('int_mrm_tags') }}
    where conversation_id is not null
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

credited as (
    select conversation_id, team, min(received_at) as tagged_at, max(briefing) as briefing
    from tags
    where scope = 'team'
    group by conversation_id, team
    union all
    select conversation_id, 'company', min(received_at), max(briefing)
    from tags
    group by conversation_id
)

select
    -- ids
    {{ dbt.concat(["credited.conversation_id", "':'", "credited.team"]) }} as mrm_id,
    credited.conversation_id,
    conversations.contact_key,
    -- dimensions
    credited.team,
    'tagged' as mrm_source,
    conversations.platform,
    conversations.channel,
    conversations.journey_stage,
    -- text
    credited.briefing,
    -- timestamps
    conversations.started_on,
    credited.tagged_at
from credited
inner join conversations on credited.conversation_id = conversations.conversation_id
