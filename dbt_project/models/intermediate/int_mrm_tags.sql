-- MRM tags from the inbox export, resolved to conversations: one row per tagged message and
-- MRM tag (team-scoped or company-wide). Tags not in the mrm_tag_rules seed are ignored here.

{% set max_tags = 10 %}

with inbox as (
    select * from {{ ref('stg_inbox__messages') }}
    where tags is not null
),

positions as (
    {% for n in range(1, max_tags + 1) %}
    select {{ n }} as position{% if not loop.last %} union all{% endif %}
    {% endfor %}
),

split as (
    select
        inbox.message_id,
        inbox.platform,
        inbox.assignee,
        inbox.briefing,
        inbox.received_at,
        trim({{ dbt.split_part("inbox.tags", "','", "positions.position") }}) as tag
    from inbox
    cross join positions
),

rules as (
    select * from {{ ref('mrm_tag_rules') }}
),

messages as (
    select platform, message_id, conversation_id from {{ ref('int_messages_threaded') }}
)

select
    split.platform,
    split.message_id,
    messages.conversation_id,
    split.tag,
    rules.scope,
    rules.team,
    split.assignee,
    split.briefing,
    split.received_at
from split
inner join rules on split.tag = rules.tag
left join messages
    on split.platform = messages.platform and split.message_id = messages.message_id
where split.tag <> ''
