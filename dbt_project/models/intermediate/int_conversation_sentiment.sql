-- The person's sentiment around the brand's replies: one row per conversation. "Before" is
-- the person's messages before the brand's first reply (all of them while unanswered), "after"
-- their messages after it, the end state their last message after it. Only the person's
-- (inbound) messages count: the brand's own words, an apology full of "sorry", are not the
-- person's mood. A message in distress (an urgency_markers seed entry: "!!!", "help!",
-- "dringend"...) counts for the mood before the reply as at most var mrm_urgent_max_mood: a
-- panicked plea is no delight, however many "please" and "!!!" it has.
--
-- The closing message: the person's end state for detected MRMs. People rarely end on their
-- happiest words: "you're lifesavers!" is followed by "ok thanks" after the brand's sign-off,
-- or by a practical question ("do I need to keep the receipt?"). So the closing message is
-- chosen among the person's closing run: their messages after the brand's first reply that
-- come after their last negative one there (labelled negative or scoring at most var
-- resolution_min_last_score), i.e. nothing they wrote later took it back. Within the run it
-- is the message that best says how they feel: one that is more than courtesy and at least
-- var mrm_lift_min_end_positive likely positive if there is one, else the most likely positive
-- one (ties: the later). When the person's last message is negative, the run is that message
-- alone. A message is read by how it ends: when its last thanking sentence comes after others
-- (int_message_sentiment.thanks_end_*: "Ist angekommen. Meine Bank hatte schon gefragt ...
-- Vielen lieben Dank!") and that ending alone reads more positive than the whole, the ending's
-- score and p_positive are the message's here; the story before the thanks is how it was,
-- the thanks how it is. closing_lift is the closing message's score minus the mood before
-- the reply. closing_is_concession: it accepts an unsolved problem ("Thanks anyway",
-- "Schade. Trotzdem danke"). was_sarcastic_before_reply: a message before the reply was
-- sarcastic (int_message_sentiment.is_sarcastic), so the person's later praise is doubted.
-- left_unreversed: the person announced leaving (int_message_sentiment.is_churn_announcement)
-- before the reply and did not say they stay (is_retention_statement) after it.
--
-- Resolved: the person had the last word after the brand replied, and it is not negative. That
-- is, the brand replied, the conversation's last inbound message comes after the brand's first
-- reply, and it is not negative: its label is not negative and its score is above var
-- resolution_min_last_score (a calibrated model may call "useless 👎" neutral by a hair; a
-- score of -0.3 still says the person left unhappy) (a message without text, which has no label,
-- is not negative). So a person who ended angry is not resolved even when the brand wrote last
-- (an apology nobody answered), and neither is one who never answered the reply: nothing says
-- it worked. The inbox export's status (open / closed) does not count: closing a ticket says
-- the agent is done with it, not that the person is satisfied (closed is all the export knows;
-- it has no resolved status).

with threaded as (
    select * from {{ ref('int_messages_threaded') }}
    where conversation_id is not null
),

sentiment as (
    select * from {{ ref('int_message_sentiment') }}
),

urgency as (
    select message_key, is_urgent
    from {{ ref('int_interactions_relevance') }}
    where is_message
),

messages as (
    select
        threaded.message_key,
        threaded.conversation_id,
        threaded.direction,
        threaded.created_at,
        sentiment.sentiment_score,
        sentiment.sentiment_label,
        sentiment.p_positive,
        sentiment.is_courtesy_only,
        coalesce(sentiment.is_sarcastic, false) as is_sarcastic,
        coalesce(sentiment.is_concession, false) as is_concession,
        -- how the message ends: its thanking ending read alone when that reads more positive
        -- than the whole (a story told before the thanks), else the whole message
        case when sentiment.thanks_end_p_positive > sentiment.p_positive
            then sentiment.thanks_end_score else sentiment.sentiment_score end as ending_score,
        case when sentiment.thanks_end_p_positive > sentiment.p_positive
            then sentiment.thanks_end_p_positive else sentiment.p_positive end
            as ending_p_positive,
        coalesce(sentiment.is_churn_announcement, false) as is_churn_announcement,
        coalesce(sentiment.is_retention_statement, false) as is_retention_statement,
        case
            when urgency.is_urgent
                then least(sentiment.sentiment_score, {{ var('mrm_urgent_max_mood') }})
            else sentiment.sentiment_score
        end as mood_score,
        row_number() over (
            partition by threaded.conversation_id
            order by threaded.created_at, threaded.message_id
        ) as position
    from threaded
    left join sentiment on threaded.message_key = sentiment.message_key
    left join urgency on threaded.message_key = urgency.message_key
),

first_replies as (
    select conversation_id, reply_message_key
    from {{ ref('int_response_pairs') }}
    where is_first_response
),

reply_positions as (
    select
        messages.conversation_id,
        min(case when messages.message_key = first_replies.reply_message_key
            then messages.position end) as first_reply_position
    from messages
    left join first_replies on messages.conversation_id = first_replies.conversation_id
    group by messages.conversation_id
),

inbound as (
    select
        messages.*,
        reply_positions.first_reply_position,
        case
            when reply_positions.first_reply_position is null then 'before'
            when messages.position < reply_positions.first_reply_position then 'before'
            else 'after'
        end as phase,
        row_number() over (
            partition by messages.conversation_id order by messages.position desc
        ) as recency_rank
    from messages
    inner join reply_positions on messages.conversation_id = reply_positions.conversation_id
    where messages.direction = 'inbound'
),

after_reply as (
    select
        inbound.*,
        -- negative: labelled so (unless its thanking ending reads better) or ending at most
        -- var resolution_min_last_score
        coalesce(inbound.ending_score <= {{ var('resolution_min_last_score') }}
                 or inbound.sentiment_label = 'negative'
                 and inbound.ending_score = inbound.sentiment_score, false)
            as is_negative,
        max(inbound.position) over (partition by inbound.conversation_id) as last_position
    from inbound
    where inbound.phase = 'after'
),

closing_runs as (
    select
        after_reply.*,
        max(case when after_reply.is_negative then after_reply.position end) over (
            partition by after_reply.conversation_id
        ) as last_negative_position
    from after_reply
),

closing_ranked as (
    select
        closing_runs.*,
        row_number() over (
            partition by closing_runs.conversation_id
            order by
                case when closing_runs.ending_p_positive >= {{ var('mrm_lift_min_end_positive') }}
                    and not coalesce(closing_runs.is_courtesy_only, false) then 0 else 1 end,
                closing_runs.ending_p_positive desc nulls last,
                closing_runs.position desc
        ) as closing_rank
    from closing_runs
    where closing_runs.position > coalesce(closing_runs.last_negative_position, 0)
        or closing_runs.last_negative_position = closing_runs.last_position
            and closing_runs.position = closing_runs.last_position
),

closing as (
    select
        conversation_id,
        message_key as closing_message_key,
        created_at as closing_at,
        ending_score as closing_score,
        ending_p_positive as closing_p_positive,
        coalesce(is_courtesy_only, false) as closing_is_courtesy_only,
        is_concession as closing_is_concession
    from closing_ranked
    where closing_rank = 1
),

summarised as (
    select
        conversation_id,
        avg(case when phase = 'before' then mood_score end) as sentiment_before_reply,
        avg(case when phase = 'after' then sentiment_score end) as sentiment_after_reply,
        max(case when phase = 'after' and recency_rank = 1 then sentiment_score end)
            as sentiment_end_after_reply,
        max(case when phase = 'after' and recency_rank = 1 then message_key end)
            as end_message_key,
        sum(case when phase = 'after' then 1 else 0 end) as inbound_after_reply,
        -- the person's last word, whether or not it came after a reply
        max(case when recency_rank = 1 then position end) as last_inbound_position,
        max(case when recency_rank = 1 then sentiment_label end) as last_inbound_label,
        max(case when recency_rank = 1 then sentiment_score end) as last_inbound_score,
        max(case when phase = 'before' and is_churn_announcement then 1 else 0 end) = 1
            as announced_leaving,
        max(case when phase = 'after' and is_retention_statement then 1 else 0 end) = 1
            as said_staying,
        max(case when phase = 'before' and is_sarcastic then 1 else 0 end) = 1
            as was_sarcastic_before_reply
    from inbound
    group by conversation_id
)

select
    reply_positions.conversation_id,
    summarised.sentiment_before_reply,
    summarised.sentiment_after_reply,
    summarised.sentiment_end_after_reply,
    summarised.sentiment_end_after_reply - summarised.sentiment_before_reply as sentiment_lift,
    summarised.end_message_key,
    cast(coalesce(summarised.inbound_after_reply, 0) as {{ dbt.type_int() }})
        as inbound_after_reply,
    closing.closing_message_key,
    closing.closing_at,
    closing.closing_score,
    closing.closing_p_positive,
    coalesce(closing.closing_is_courtesy_only, false) as closing_is_courtesy_only,
    coalesce(closing.closing_is_concession, false) as closing_is_concession,
    closing.closing_score - summarised.sentiment_before_reply as closing_lift,
    coalesce(summarised.was_sarcastic_before_reply, false) as was_sarcastic_before_reply,
    coalesce(summarised.announced_leaving and not summarised.said_staying, false)
        as left_unreversed,
    coalesce(
        summarised.last_inbound_position > reply_positions.first_reply_position
        and coalesce(summarised.last_inbound_label, 'unlabelled') <> 'negative'
        and coalesce(summarised.last_inbound_score, 0) > {{ var('resolution_min_last_score') }},
        false
    ) as is_resolved
from reply_positions
left join summarised on reply_positions.conversation_id = summarised.conversation_id
left join closing on reply_positions.conversation_id = closing.conversation_id
