-- Floor, step 5: the daily MRM roll-up per team: conversations an agent tagged as an MRM
-- (inbox tags on their messages), conversations with the person's word after the brand's
-- reply, and those followed by a CRM stage move within 14 days; either counts once.
create or replace table floor.mrm_daily as
with
tagged as (
    select distinct t.conversation_id
    from floor.inbox as i
    inner join floor.threaded as t on t.platform = i.platform and t.message_id = i.message_id
    where list_has_any(i.tags, ['#MRM', '#socialMRM', '#supportMRM'])
),
closing as (
    select c.conversation_id
    from floor.conversation_facts as c
    inner join floor.threaded as t
        on t.conversation_id = c.conversation_id and t.direction = 'inbound'
        and t.created_at > c.first_reply_at
    group by c.conversation_id
),
contact_ids as (
    select contact_id, 'x' as platform, x_user_id as user_id from floor.contacts
    where x_user_id <> ''
    union all
    select contact_id, 'facebook', facebook_user_id from floor.contacts
    where facebook_user_id <> ''
    union all
    select contact_id, 'instagram', instagram_user_id from floor.contacts
    where instagram_user_id <> ''
    union all
    select contact_id, 'mastodon', mastodon_account_id from floor.contacts
    where mastodon_account_id <> ''
),
advanced as (
    select distinct c.conversation_id
    from floor.conversation_facts as c
    inner join contact_ids as k on k.platform = c.platform and k.user_id = c.counterpart_id
    inner join floor.stages as s on s.contact_id = k.contact_id
    where s.changed_at > c.ended_at and s.changed_at <= c.ended_at + interval 14 days
),
flags as (
    select c.conversation_id, cast(c.ended_at as date) as day, c.team,
        t.conversation_id is not null as is_tagged,
        (cl.conversation_id is not null or a.conversation_id is not null) as is_detected
    from floor.conversation_facts as c
    left join tagged as t using (conversation_id)
    left join closing as cl using (conversation_id)
    left join advanced as a using (conversation_id)
    where c.first_reply_at is not null
)
select day, team,
    count(*) filter (where is_tagged) as tagged_mrms,
    count(*) filter (where is_detected) as detected_mrms,
    count(*) filter (where is_tagged or is_detected) as mrms
from flags
group by all;
