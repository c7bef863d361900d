-- Floor, step 1: staging. Every raw table cast and renamed, the latest load of each item kept
-- (raw keeps every load's version), all platforms' messages in one shape and deduplicated
-- across the endpoints that return the same message. Reads the raw_* schemas and
-- floor.owned (platform, account_id, team), which the benchmark fills.
create or replace table floor.messages as
with
x_public as (
    select 'x' as platform, 'public' as medium, 1 as endpoint, owned_account_id,
        cast(id as varchar) as message_id, cast(author_id as varchar) as author_id,
        cast(conversation_id as varchar) as thread_id,
        cast(in_reply_to_user_id as varchar) as reply_to_id, text,
        timezone('UTC', created_at) as created_at, _dlt_load_id
    from raw_x.mentions
    union all
    select 'x', 'public', 2, owned_account_id, cast(id as varchar), cast(author_id as varchar),
        cast(conversation_id as varchar), cast(in_reply_to_user_id as varchar), text,
        timezone('UTC', created_at), _dlt_load_id
    from raw_x.posts
    union all
    select 'x', 'public', 3, null, cast(id as varchar), cast(author_id as varchar),
        cast(conversation_id as varchar), null, text, timezone('UTC', created_at), _dlt_load_id
    from raw_x.search_results
),
x_dm as (
    select 'x' as platform, 'direct' as medium, 1 as endpoint, owned_account_id,
        cast(id as varchar) as message_id, cast(sender_id as varchar) as author_id,
        cast(dm_conversation_id as varchar) as thread_id,
        replace(replace(dm_conversation_id, owned_account_id || '-', ''),
                '-' || owned_account_id, '') as reply_to_id,
        text, timezone('UTC', created_at) as created_at, _dlt_load_id
    from raw_x.dm_events
    where event_type = 'MessageCreate'
),
graph_comments as (
    select 'facebook' as platform, page_id as owned_account_id, cast(id as varchar) as message_id,
        cast(from__id as varchar) as author_id, cast(parent__id as varchar) as parent_id,
        message as text, timezone('UTC', created_time) as created_at, _dlt_load_id
    from raw_meta.post_comments
    union all
    select 'instagram', account_id, cast(id as varchar), cast(from__id as varchar),
        cast(parent_id as varchar), text, timezone('UTC', "timestamp"), _dlt_load_id
    from raw_meta.ig_comments
),
graph_latest as (
    select *, coalesce(parent_id, message_id) as thread_id
    from graph_comments
    qualify row_number() over (partition by platform, message_id order by _dlt_load_id desc) = 1
),
graph_public as (
    -- a comment thread belongs to the person who wrote its top-level comment
    select c.platform, 'public' as medium, 1 as endpoint, c.owned_account_id, c.message_id,
        c.author_id, c.thread_id, top.author_id as reply_to_id, c.text, c.created_at,
        c._dlt_load_id
    from graph_latest as c
    left join graph_latest as top
        on top.platform = c.platform and top.message_id = c.thread_id
),
messenger as (
    select 'facebook' as platform, 'direct' as medium, 1 as endpoint, page_id as owned_account_id,
        cast(id as varchar) as message_id, cast(from__id as varchar) as author_id,
        cast(conversation_id as varchar) as thread_id,
        json_extract_string("to", '$.data[0].id') as reply_to_id, message as text,
        timezone('UTC', created_time) as created_at, _dlt_load_id
    from raw_meta.conversation_messages
),
mastodon_statuses as (
    select owned_account_id, 1 as endpoint, cast(id as varchar) as message_id,
        cast(account__id as varchar) as author_id, cast(in_reply_to_id as varchar) as parent_id,
        cast(in_reply_to_account_id as varchar) as reply_to_id, visibility, content_text as text,
        timezone('UTC', created_at) as created_at, _dlt_load_id
    from raw_mastodon.statuses
    union all
    select owned_account_id, 2, cast(status__id as varchar), cast(status__account__id as varchar),
        cast(status__in_reply_to_id as varchar), cast(status__in_reply_to_account_id as varchar),
        status__visibility, status__content_text, timezone('UTC', status__created_at),
        _dlt_load_id
    from raw_mastodon.notifications
    where type = 'mention'
    union all
    select owned_account_id, 3, cast(last_status__id as varchar),
        cast(last_status__account__id as varchar), cast(last_status__in_reply_to_id as varchar),
        cast(last_status__in_reply_to_account_id as varchar), last_status__visibility,
        last_status__content_text, timezone('UTC', last_status__created_at), _dlt_load_id
    from raw_mastodon.conversations
    union all
    select null, 4, cast(id as varchar), cast(account__id as varchar), null, null, visibility,
        content_text, timezone('UTC', created_at), _dlt_load_id
    from raw_mastodon.tag_statuses
),
mastodon_latest as (
    select *
    from mastodon_statuses
    qualify row_number() over (
        partition by message_id order by endpoint, _dlt_load_id desc) = 1
),
mastodon_roots as (
    -- a thread is named by its root status: follow in_reply_to up the chain
    with recursive chain (message_id, root_id, parent_id, depth) as (
        select message_id, message_id, parent_id, 0 from mastodon_latest
        union all
        select chain.message_id, parent.message_id, parent.parent_id, chain.depth + 1
        from chain
        inner join mastodon_latest as parent on parent.message_id = chain.parent_id
        where chain.depth < 50
    )
    select message_id, arg_max(root_id, depth) as root_id from chain group by message_id
),
mastodon as (
    select 'mastodon' as platform,
        case when visibility = 'direct' then 'direct' else 'public' end as medium,
        1 as endpoint, s.owned_account_id, s.message_id, s.author_id, r.root_id as thread_id,
        s.reply_to_id, s.text, s.created_at, s._dlt_load_id
    from mastodon_latest as s
    inner join mastodon_roots as r using (message_id)
),
unioned as (
    select * from x_public
    union all select * from x_dm
    union all select * from graph_public
    union all select * from messenger
    union all select * from mastodon
),
latest as (
    select *
    from unioned
    qualify row_number() over (
        partition by platform, message_id
        order by endpoint, owned_account_id nulls last, _dlt_load_id desc) = 1
)
select
    latest.platform, latest.medium, latest.message_id, latest.owned_account_id,
    latest.author_id, latest.thread_id, latest.text, latest.created_at,
    -- keyword and hashtag posts name the brand without addressing it
    not (latest.platform = 'x' and latest.endpoint = 3
         or latest.platform = 'mastodon' and latest.endpoint = 4) as is_directed,
    case when owned.account_id is not null then 'outbound' else 'inbound' end as direction,
    -- who the brand talks to: the author of inbound, the addressed person of outbound
    case when owned.account_id is not null then latest.reply_to_id else latest.author_id end
        as counterpart_id
from latest
left join floor.owned as owned
    on owned.platform = latest.platform and owned.account_id = latest.author_id;

create or replace table floor.posts as
select 'facebook' as platform, cast(id as varchar) as post_id, page_id as account_id,
    message as text, timezone('UTC', created_time) as created_at,
    cast(reactions__summary__total_count as bigint) as reactions
from raw_meta.page_posts
qualify row_number() over (partition by id order by _dlt_load_id desc) = 1
union all
select 'instagram', cast(id as varchar), account_id, caption, timezone('UTC', "timestamp"),
    cast(like_count as bigint)
from raw_meta.ig_media
qualify row_number() over (partition by id order by _dlt_load_id desc) = 1;

create or replace table floor.inbox as
select cast(message_id as varchar) as message_id, platform, account_id, team, assignee,
    string_split(coalesce(tags, ''), ',') as tags, status,
    timezone('UTC', received_at) as received_at, timezone('UTC', closed_at) as closed_at
from raw_inbox.inbox_messages
qualify row_number() over (
    partition by message_id order by _dlt_load_id desc, _source_file desc, _source_line desc) = 1;

create or replace table floor.contacts as
select cast(contact_id as varchar) as contact_id, x_user_id, facebook_user_id,
    instagram_user_id, mastodon_account_id, lifecycle_stage
from raw_crm.contacts
qualify row_number() over (
    partition by contact_id order by _dlt_load_id desc, _source_file desc, _source_line desc) = 1;

create or replace table floor.stages as
select distinct cast(contact_id as varchar) as contact_id, stage,
    timezone('UTC', changed_at) as changed_at
from raw_crm.lifecycle_stages;
