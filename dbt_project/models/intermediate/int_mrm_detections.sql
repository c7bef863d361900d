-- Detected MRMs (DOMAIN.md): one row per conversation the brand replied to and rule that
-- fired. Thresholds and windows are dbt vars (dbt_project.yml, docs/metrics.md):
--   sentiment_lift               the person's closing message after the brand's first
--                                reply (int_conversation_sentiment: the most positive of
--                                their closing run, nothing negative after it) scores at
--                                least mrm_lift_min_lift above their mean before the reply
--                                and is clearly positive: more than courtesy and at least
--                                mrm_lift_min_end_positive likely positive (p_positive: a
--                                thankful sentence beside one about the problem counts,
--                                though the problem's words pull the net score down); or
--                                courtesy only ("Ok, thanks.", no problem words to dilute
--                                it, so the net score is read: at least
--                                mrm_lift_min_courtesy_score) when the person was troubled
--                                before (mean <= mrm_lift_courtesy_max_before) and had not
--                                announced leaving without taking it back (a polite
--                                goodbye is no turnaround); never when the closing
--                                message concedes an unsolved problem ("Thanks anyway",
--                                "Trotzdem danke", var mrm_concession_markers) or the
--                                person was sarcastic before the reply (their praise after
--                                it is doubted: "Na super ... ihr seid die Besten", then
--                                "Ganz großes Kino");
--   unprompted_positive_mention  within mrm_behaviour_window_days after the reply the person
--                                praises the brand unprompted (a mention, keyword or hashtag
--                                post naming a brand keyword, scoring at least
--                                mrm_mention_min_score) and had not done so in the
--                                mrm_behaviour_baseline_days before the conversation;
--   hashtag_chat_join            the person's first ever post in a brand hashtag chat falls
--                                within the window;
--   churn_reversed               the person announced leaving before the brand's first reply
--                                (var mrm_churn_markers) and says they stay after it (var
--                                mrm_retention_markers), in the same conversation;
--   crm_stage_advance            the linked CRM contact moves to a later lifecycle stage
--                                (lifecycle_stages seed) within the window.
-- A person is their CRM contact where the CRM links their platform id, else the platform id.

with threaded as (
    select * from {{ ref('int_messages_threaded') }}
),

sentiment as (
    select * from {{ ref('int_message_sentiment') }}
),

identities as (
    select * from {{ ref('int_contact_identities') }}
),

keywords as (
    select * from {{ ref('brand_keywords') }}
),

first_replies as (
    select conversation_id, replied_at as first_reply_at
    from {{ ref('int_response_pairs') }}
    where is_first_response
),

conversation_sentiment as (
    select * from {{ ref('int_conversation_sentiment') }}
),

conversation_people as (
    select
        conversation_id,
        platform,
        max(counterpart_id) as counterpart_id,
        min(created_at) as started_at
    from threaded
    where conversation_id is not null
    group by conversation_id, platform
),

answered as (
    select
        conversation_people.conversation_id,
        conversation_people.started_at,
        first_replies.first_reply_at,
        {{ dbt.dateadd('day', var('mrm_behaviour_window_days'), 'first_replies.first_reply_at') }}
            as window_end_at,
        {{ dbt.dateadd('day', -1 * var('mrm_behaviour_baseline_days'),
                       'conversation_people.started_at') }} as baseline_start_at,
        identities.contact_id,
        coalesce(
            {{ dbt.concat(["'crm:'", "identities.contact_id"]) }},
            {{ dbt.concat(["conversation_people.platform", "':'",
                           "conversation_people.counterpart_id"]) }}
        ) as person_key
    from conversation_people
    inner join first_replies
        on conversation_people.conversation_id = first_replies.conversation_id
    left join identities
        on conversation_people.platform = identities.platform
        and conversation_people.counterpart_id = identities.platform_user_id
),

person_messages as (
    select
        threaded.message_key,
        threaded.conversation_id,
        threaded.message_type,
        lower(threaded.text) as text_lower,
        threaded.created_at,
        sentiment.sentiment_score,
        coalesce(sentiment.is_churn_announcement, false) as is_churn_announcement,
        coalesce(sentiment.is_retention_statement, false) as is_retention_statement,
        coalesce(
            {{ dbt.concat(["'crm:'", "identities.contact_id"]) }},
            {{ dbt.concat(["threaded.platform", "':'", "threaded.author_id"]) }}
        ) as person_key
    from threaded
    left join sentiment on threaded.message_key = sentiment.message_key
    left join identities
        on threaded.platform = identities.platform
        and threaded.author_id = identities.platform_user_id
    where threaded.direction = 'inbound' and threaded.author_id is not null
),

brand_mentions as (
    -- unprompted praise: written on the person's own initiative, not as a reply to the brand
    select distinct person_messages.message_key, person_messages.conversation_id,
        person_messages.person_key, person_messages.created_at
    from person_messages
    inner join keywords
        on keywords.kind in ('brand', 'product')
        and {{ contains_text("person_messages.text_lower", "keywords.keyword") }}
    where person_messages.message_type in ('mention', 'keyword_mention', 'hashtag_post')
        and person_messages.sentiment_score >= {{ var('mrm_mention_min_score') }}
),

chat_posts as (
    select distinct person_messages.message_key, person_messages.person_key,
        person_messages.created_at, keywords.keyword as hashtag
    from person_messages
    inner join keywords
        on keywords.kind = 'chat_hashtag'
        and {{ contains_text("person_messages.text_lower", dbt.concat(["'#'", "keywords.keyword"])) }}
),

first_chat_posts as (
    select message_key, person_key, created_at, hashtag,
        row_number() over (partition by person_key order by created_at, message_key)
            as post_rank
    from chat_posts
),

stage_orders as (
    select * from {{ ref('lifecycle_stages') }}
),

stage_changes as (
    select
        intervals.stage_change_key,
        intervals.contact_id,
        intervals.valid_from as changed_at,
        intervals.stage,
        lag(intervals.stage) over (
            partition by intervals.contact_id order by intervals.valid_from, intervals.stage
        ) as previous_stage
    from {{ ref('int_lifecycle_stage_intervals') }} as intervals
),

stage_advances as (
    select stage_changes.*
    from stage_changes
    inner join stage_orders as new_order on stage_changes.stage = new_order.stage
    inner join stage_orders as old_order on stage_changes.previous_stage = old_order.stage
    where new_order.stage_order > old_order.stage_order
),

lift as (
    select
        answered.conversation_id,
        'sentiment_lift' as rule,
        conversation_sentiment.closing_message_key as evidence_key,
        conversation_sentiment.closing_at as evidence_at,
        conversation_sentiment.closing_lift as evidence_value,
        {{ dbt.concat([
            "'sentiment rose from '",
            "cast(round(conversation_sentiment.sentiment_before_reply, 2) as " ~ dbt.type_string() ~ ")",
            "' to '",
            "cast(round(conversation_sentiment.closing_score, 2) as " ~ dbt.type_string() ~ ")",
            "' after the reply'",
        ]) }} as evidence
    from answered
    inner join conversation_sentiment
        on answered.conversation_id = conversation_sentiment.conversation_id
    where conversation_sentiment.closing_lift >= {{ var('mrm_lift_min_lift') }}
        -- thanks that accepts an unsolved problem is a polite goodbye, and a person who was
        -- sarcastic before the reply praises in the same voice after it
        and not coalesce(conversation_sentiment.closing_is_concession, false)
        and not coalesce(conversation_sentiment.was_sarcastic_before_reply, false)
        and (
            not conversation_sentiment.closing_is_courtesy_only
            and conversation_sentiment.closing_p_positive
                >= {{ var('mrm_lift_min_end_positive') }}
            or conversation_sentiment.closing_is_courtesy_only
            and conversation_sentiment.closing_score >= {{ var('mrm_lift_min_courtesy_score') }}
            and conversation_sentiment.sentiment_before_reply
                <= {{ var('mrm_lift_courtesy_max_before') }}
            and not conversation_sentiment.left_unreversed
        )
),

mention_candidates as (
    select
        answered.conversation_id,
        brand_mentions.message_key,
        brand_mentions.created_at,
        answered.first_reply_at,
        row_number() over (
            partition by answered.conversation_id
            order by brand_mentions.created_at, brand_mentions.message_key
        ) as mention_rank
    from answered
    inner join brand_mentions
        on answered.person_key = brand_mentions.person_key
        and brand_mentions.created_at > answered.first_reply_at
        and brand_mentions.created_at <= answered.window_end_at
        and brand_mentions.conversation_id is distinct from answered.conversation_id
    where not exists (
        -- a behaviour *change*: no such praise in the baseline before the conversation
        select 1
        from brand_mentions as earlier
        where earlier.person_key = answered.person_key
            and earlier.created_at >= answered.baseline_start_at
            and earlier.created_at < answered.started_at
    )
),

mention as (
    select
        conversation_id,
        'unprompted_positive_mention' as rule,
        message_key as evidence_key,
        created_at as evidence_at,
        {{ dbt.datediff('first_reply_at', 'created_at', 'hour') }} / 24.0 as evidence_value,
        'unprompted positive brand mention after the reply' as evidence
    from mention_candidates
    where mention_rank = 1
),

chat_join as (
    select
        answered.conversation_id,
        'hashtag_chat_join' as rule,
        first_chat_posts.message_key as evidence_key,
        first_chat_posts.created_at as evidence_at,
        {{ dbt.datediff('answered.first_reply_at', 'first_chat_posts.created_at', 'hour') }}
            / 24.0 as evidence_value,
        {{ dbt.concat(["'joined the #'", "first_chat_posts.hashtag",
                       "' chat after the reply'"]) }} as evidence
    from answered
    inner join first_chat_posts
        on answered.person_key = first_chat_posts.person_key
        and first_chat_posts.post_rank = 1
        and first_chat_posts.created_at > answered.first_reply_at
        and first_chat_posts.created_at <= answered.window_end_at
),

stage_candidates as (
    select
        answered.conversation_id,
        answered.first_reply_at,
        stage_advances.stage_change_key,
        stage_advances.changed_at,
        stage_advances.previous_stage,
        stage_advances.stage,
        row_number() over (
            partition by answered.conversation_id
            order by stage_advances.changed_at, stage_advances.stage_change_key
        ) as advance_rank
    from answered
    inner join stage_advances
        on answered.contact_id = stage_advances.contact_id
        and stage_advances.changed_at > answered.first_reply_at
        and stage_advances.changed_at <= answered.window_end_at
),

stage_advance as (
    select
        conversation_id,
        'crm_stage_advance' as rule,
        stage_change_key as evidence_key,
        changed_at as evidence_at,
        {{ dbt.datediff('first_reply_at', 'changed_at', 'hour') }} / 24.0 as evidence_value,
        {{ dbt.concat(["'CRM stage '", "previous_stage", "' -> '", "stage",
                       "' after the reply'"]) }} as evidence
    from stage_candidates
    where advance_rank = 1
),

retention_candidates as (
    select
        answered.conversation_id,
        answered.first_reply_at,
        stayed.message_key,
        stayed.created_at,
        row_number() over (
            partition by answered.conversation_id
            order by stayed.created_at, stayed.message_key
        ) as retention_rank
    from answered
    inner join person_messages as stayed
        on answered.conversation_id = stayed.conversation_id
        and answered.person_key = stayed.person_key
        and stayed.created_at > answered.first_reply_at
        and stayed.is_retention_statement
    where exists (
        select 1
        from person_messages as leaving
        where leaving.conversation_id = answered.conversation_id
            and leaving.person_key = answered.person_key
            and leaving.created_at < answered.first_reply_at
            and leaving.is_churn_announcement
    )
),

churn_reversal as (
    select
        conversation_id,
        'churn_reversed' as rule,
        message_key as evidence_key,
        created_at as evidence_at,
        {{ dbt.datediff('first_reply_at', 'created_at', 'hour') }} / 24.0 as evidence_value,
        'announced leaving, stayed after the reply' as evidence
    from retention_candidates
    where retention_rank = 1
),

fired as (
    select * from lift
    union all
    select * from mention
    union all
    select * from chat_join
    union all
    select * from stage_advance
    union all
    select * from churn_reversal
)

select
    {{ dbt.concat(["conversation_id", "':'", "rule"]) }} as detection_id,
    conversation_id,
    rule,
    evidence_key,
    evidence_at,
    cast(evidence_value as {{ dbt.type_float() }}) as evidence_value,
    evidence
from fired
