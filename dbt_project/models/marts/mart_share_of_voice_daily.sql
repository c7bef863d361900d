-- Share of voice per day x brand/competitor (competitors seed). Grain: one UTC day x name,
-- every day from the first to the last message, zero-filled.
-- A mention is a public inbound message (not a DM) that names the keyword; for the brand,
-- public messages addressed to an owned account count too. Spam (spam_markers seed) is left
-- out. A message naming two names counts for both.
-- share_of_voice = mentions / all names' mentions that day; net_sentiment = % positive -
-- % negative mentions (int_message_sentiment).

with relevance as (
    select * from {{ ref('int_interactions_relevance') }}
    where is_message and not is_spam
),

messages as (
    select message_key, medium, text from {{ ref('int_messages') }}
    where direction = 'inbound' and medium = 'public'
),

sentiment as (
    select message_key, sentiment_label from {{ ref('int_message_sentiment') }}
),

names as (
    select name, kind, lower(keyword) as keyword from {{ ref('competitors') }}
),

days as (
    select date_day from {{ ref('dim_date') }}
    where date_day >= (select cast(min(created_at) as date) from {{ ref('int_messages') }})
        and date_day <= (select cast(max(created_at) as date) from {{ ref('int_messages') }})
),

mentions as (
    select
        cast(relevance.created_at as date) as date_day,
        names.name,
        relevance.message_key,
        sentiment.sentiment_label
    from relevance
    inner join messages on relevance.message_key = messages.message_key
    inner join names
        on {{ contains_text("lower(messages.text)", "names.keyword") }}
        or (names.kind = 'brand' and relevance.is_directed_at_brand)
    left join sentiment on relevance.message_key = sentiment.message_key
),

counted as (
    select
        date_day,
        name,
        count(*) as mentions,
        sum(case when sentiment_label = 'positive' then 1 else 0 end) as positive_mentions,
        sum(case when sentiment_label = 'negative' then 1 else 0 end) as negative_mentions
    from mentions
    group by date_day, name
),

grid as (
    select
        days.date_day,
        names.name,
        names.kind,
        coalesce(counted.mentions, 0) as mentions,
        coalesce(counted.positive_mentions, 0) as positive_mentions,
        coalesce(counted.negative_mentions, 0) as negative_mentions
    from days
    cross join names
    left join counted on days.date_day = counted.date_day and names.name = counted.name
),

with_totals as (
    select
        *,
        sum(mentions) over (partition by date_day) as all_mentions
    from grid
)

select
    {{ dbt.concat(["cast(date_day as " ~ dbt.type_string() ~ ")", "'|'", "name"]) }} as mart_key,
    date_day,
    name,
    kind,
    cast(mentions as {{ dbt.type_bigint() }}) as mentions,
    cast(positive_mentions as {{ dbt.type_bigint() }}) as positive_mentions,
    cast(negative_mentions as {{ dbt.type_bigint() }}) as negative_mentions,
    cast(all_mentions as {{ dbt.type_bigint() }}) as all_mentions,
    cast(
        case when all_mentions > 0 then 1.0 * mentions / all_mentions end
        as {{ type_double() }}
    ) as share_of_voice,
    cast(
        case when mentions > 0 then 100.0 * (positive_mentions - negative_mentions) / mentions end
        as {{ type_double() }}
    ) as net_sentiment
from with_totals
