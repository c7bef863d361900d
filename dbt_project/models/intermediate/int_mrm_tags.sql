-- MRM tags from the inbox export, resolved to conversations: one row per tagged message and
-- MRM tag (team-scoped or company-wide). Tags not in the mrm_tag_rules seed are ignored here.

with inbox as (
    select * from {{ ref('stg_inbox__messages') }}
    where tags is not null
),

split as (
    select
        inbox.message_id,
        inbox.platform,
        inbox.assignee,
        inbox.briefing,
        inbox.received_at,
        {{ split_to_rows("inbox.tags", "','") }} as raw_tag
    from inbox
),

tagged as (
    select *, trim(raw_tag) as tag from split
),

rules as (
    select * from {{ ref('mrm_tag_rules') }}
),

messages as (
    select platform, message_id, conversation_id from {{ ref('int_messages_threaded') }}
)

select
    tagged.platform,
    tagged.message_id,
    messages.conversation_id,
    tagged.tag,
    rules.scope,
    rules.team,
    tagged.assignee,
    tagged.briefing,
    tagged.received_at
from tagged
inner join rules on tagged.tag = rules.tag
left join messages
    on tagged.platform = messages.platform and tagged.message_id = messages.message_id
where tagged.tag <> ''
