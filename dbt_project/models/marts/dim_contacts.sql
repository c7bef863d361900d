-- One row per person's platform identity (pseudonymous contact_key, the key of
-- fct_interactions and fct_conversations): involvement, segment and ambassador flag with the
-- evidence behind them. Handles, names and platform ids stay out.
--
-- Segments, first match wins (thresholds are vars, see docs/community.md):
--   advocate  involvement >= segment_advocate_min_involvement, positive share >=
--             segment_advocate_min_positive_share, and at least
--             segment_advocate_min_unprompted_positive brand-positive posts they started;
--   punk      at least segment_punk_min_negative_messages negative messages, negative share >=
--             segment_punk_min_negative_share, in at least segment_punk_min_threads threads;
--   panicked  a burst of segment_panicked_min_burst_messages messages within
--             segment_panicked_burst_minutes, with urgent wording or a sentiment drop of at
--             least segment_panicked_min_sentiment_drop between consecutive messages
--             (previous score - next score: a mood that rises after a fix is no panic);
--   observer  watches: at least segment_observer_min_reactions reactions, at most
--             segment_observer_max_messages messages, none of them positive, negative or spam;
--   unsegmented  everyone else (including people silent in the window).
-- CRM outcomes: when the person became a lead and converted, and the source the CRM credits
-- (null without a CRM link or when the CRM exports no conversions).
-- Ambassador candidate: an advocate with at least ambassador_min_followers followers on some
-- platform and at least ambassador_min_unprompted_positive unprompted brand-positive posts.

with features as (
    select * from {{ ref('int_contact_features') }}
),

crm_outcomes as (
    -- What the CRM recorded for the person: the first lead and first conversion, and the
    -- source it credits (the conversion's, else the lead's).
    select
        contact_id,
        occurred_at,
        kind,
        source,
        source_platform,
        row_number() over (
            partition by contact_id
            order by case when kind = 'conversion' then 0 else 1 end, occurred_at, conversion_id
        ) as credit_rank
    from {{ ref('stg_crm__conversions') }}
),

outcomes as (
    select
        contact_id,
        min(case when kind = 'lead' then occurred_at end) as became_lead_at,
        min(case when kind = 'conversion' then occurred_at end) as converted_at,
        max(case when credit_rank = 1 then source end) as credited_source,
        max(case when credit_rank = 1 then source_platform end) as credited_platform
    from crm_outcomes
    group by contact_id
),

segmented as (
    select
        *,
        case
            when involvement_score >= {{ var('segment_advocate_min_involvement') }}
                and positive_share >= {{ var('segment_advocate_min_positive_share') }}
                and unprompted_positive_posts
                    >= {{ var('segment_advocate_min_unprompted_positive') }}
                then 'advocate'
            when negative_messages >= {{ var('segment_punk_min_negative_messages') }}
                and negative_share >= {{ var('segment_punk_min_negative_share') }}
                and distinct_threads >= {{ var('segment_punk_min_threads') }}
                then 'punk'
            when max_burst_messages >= {{ var('segment_panicked_min_burst_messages') }}
                and (
                    urgent_messages >= {{ var('segment_panicked_min_urgent_messages') }}
                    or max_sentiment_drop >= {{ var('segment_panicked_min_sentiment_drop') }}
                )
                then 'panicked'
            when reactions >= {{ var('segment_observer_min_reactions') }}
                and messages <= {{ var('segment_observer_max_messages') }}
                and positive_messages = 0
                and negative_messages = 0
                and spam_messages = 0
                then 'observer'
            else 'unsegmented'
        end as segment
    from features
)

select
    -- ids
    contact_key,
    person_key,
    -- dimensions
    platform,
    crm_contact_id is not null as is_crm_linked,
    journey_stage,
    linked_identities,
    followers_count,
    -- involvement and segment
    involvement_score,
    segment,
    segment = 'advocate'
        and coalesce(followers_count, 0) >= {{ var('ambassador_min_followers') }}
        and unprompted_positive_posts >= {{ var('ambassador_min_unprompted_positive') }}
        as is_ambassador_candidate,
    -- evidence, over the involvement window (var involvement_window_days)
    interactions,
    messages,
    reactions,
    relevant_interactions,
    spam_messages,
    off_topic_interactions,
    scored_messages,
    positive_messages,
    negative_messages,
    positive_share,
    negative_share,
    mean_sentiment,
    unprompted_positive_posts,
    hashtag_chat_posts,
    distinct_threads,
    urgent_messages,
    max_burst_messages,
    max_sentiment_drop,
    -- CRM outcomes (stg_crm__conversions), any time
    outcomes.credited_source,
    outcomes.credited_platform,
    -- timestamps
    first_interaction_at,
    last_interaction_at,
    outcomes.became_lead_at,
    outcomes.converted_at,
    as_of_at
from segmented
left join outcomes on segmented.crm_contact_id = outcomes.contact_id
