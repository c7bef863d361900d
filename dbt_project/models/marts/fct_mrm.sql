-- One row per MRM: a conversation credited to a team, plus one company-wide row
-- (team = 'company') per MRM conversation. A conversation is an MRM when an agent tagged it
-- in the inbox (credited to the tag's team) or when a detection rule fired on it (credited to
-- the team working the conversation's account); mrm_source says which, or both.

with tags as (
    select * from {{ ref('int_mrm_tags') }}
    where conversation_id is not null
),

detections as (
    select * from {{ ref('int_mrm_detections') }}
),

conversations as (
    select * from {{ ref('fct_conversations') }}
),

tagged as (
    select conversation_id, team, min(received_at) as tagged_at, max(briefing) as briefing
    from tags
    where scope = 'team'
    group by conversation_id, team
    union all
    select conversation_id, 'company', min(received_at), max(briefing)
    from tags
    group by conversation_id
),

detected_conversations as (
    select
        conversation_id,
        min(evidence_at) as detected_at,
        {{ dbt.listagg("rule", "', '", "order by rule") }} as detection_rules,
        {{ dbt.listagg("evidence", "'; '", "order by rule") }} as detection_evidence
    from detections
    group by conversation_id
),

detected as (
    select
        detected_conversations.*,
        conversations.team
    from detected_conversations
    inner join conversations
        on detected_conversations.conversation_id = conversations.conversation_id
    where conversations.team is not null
    union all
    select detected_conversations.*, 'company'
    from detected_conversations
),

credited as (
    select
        coalesce(tagged.conversation_id, detected.conversation_id) as conversation_id,
        coalesce(tagged.team, detected.team) as team,
        case
            when tagged.conversation_id is not null and detected.conversation_id is not null
                then 'both'
            when tagged.conversation_id is not null then 'tagged'
            else 'detected'
        end as mrm_source,
        detected.detection_rules,
        -- the agent's briefing where there is one, else what the detection saw
        coalesce(nullif(tagged.briefing, ''), {{ dbt.concat(["'Detected: '",
            "detected.detection_evidence"]) }}) as briefing,
        tagged.tagged_at,
        detected.detected_at
    from tagged
    full outer join detected
        on tagged.conversation_id = detected.conversation_id
        and tagged.team = detected.team
)

select
    -- ids
    {{ dbt.concat(["credited.conversation_id", "':'", "credited.team"]) }} as mrm_id,
    credited.conversation_id,
    conversations.contact_key,
    -- dimensions
    credited.team,
    credited.mrm_source,
    credited.detection_rules,
    conversations.platform,
    conversations.channel,
    conversations.journey_stage,
    -- text
    credited.briefing,
    -- timestamps
    conversations.started_on,
    credited.tagged_at,
    credited.detected_at
from credited
inner join conversations on credited.conversation_id = conversations.conversation_id
