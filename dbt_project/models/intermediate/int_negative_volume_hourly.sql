-- Negative inbound volume per hour, the series shitstorm alerts watch. Grain: one UTC hour,
-- every hour from the first to the last message, both included (hours without negative
-- messages are 0).
-- Counted: inbound messages of any platform and type (mentions, comments, replies, DMs,
-- keyword and hashtag posts) whose sentiment is negative; spam (int_interactions_relevance)
-- is left out.

{%- set messages_relation = ref('int_messages') %}
{%- set first_hour = "(select " ~ dbt.date_trunc('hour', 'min(created_at)') ~ " from " ~ messages_relation ~ ")" %}
{%- set last_hour = "(select " ~ dbt.date_trunc('hour', 'max(created_at)') ~ " from " ~ messages_relation ~ ")" %}

with spine as (
    {{ inclusive_date_spine('hour', first_hour, last_hour) }}
),

hours as (
    select cast(date_hour as {{ dbt.type_timestamp() }}) as hour_start from spine
),

relevance as (
    select * from {{ ref('int_interactions_relevance') }}
    where is_message and not is_spam
),

sentiment as (
    select * from {{ ref('int_message_sentiment') }}
    where sentiment_label = 'negative'
),

negative as (
    select
        relevance.message_key,
        relevance.platform,
        relevance.created_at,
        {{ dbt.date_trunc('hour', 'relevance.created_at') }} as hour_start
    from relevance
    inner join sentiment on relevance.message_key = sentiment.message_key
),

per_platform as (
    select hour_start, platform, count(*) as negative_messages
    from negative
    group by hour_start, platform
),

per_hour as (
    select
        hour_start,
        sum(negative_messages) as negative_messages,
        {{ dbt.listagg(
            dbt.concat(["platform", "'='", "cast(negative_messages as " ~ dbt.type_string() ~ ")"]),
            "', '",
            "order by platform") }} as platform_breakdown
    from per_platform
    group by hour_start
),

samples as (
    select
        hour_start,
        {{ dbt.listagg("message_key", "', '", "order by created_at, message_key", 5) }}
            as sample_message_keys
    from negative
    group by hour_start
)

select
    hours.hour_start,
    cast(coalesce(per_hour.negative_messages, 0) as {{ dbt.type_bigint() }}) as negative_messages,
    per_hour.platform_breakdown,
    samples.sample_message_keys
from hours
left join per_hour on hours.hour_start = per_hour.hour_start
left join samples on hours.hour_start = samples.hour_start
