-- Interaction volumes and their sentiment per day, pre-aggregated for BI: a dashboard tile
-- "interactions per day and platform" or "sentiment over time" reads this mart (hundreds of
-- rows a day) instead of scanning fct_interactions (one row per interaction; ten million at
-- two years of a big brand). Grain: one UTC day x platform x medium x interaction type x
-- direction x channel x team; channel and team are those of the owned account involved and
-- null for interactions with none (keyword and hashtag posts, mentions of competitors).
-- Rebuilt whole each night: one pass over fct_interactions, cheap next to the models it
-- reads, and always consistent with it (deletions included).

with interactions as (
    select * from {{ ref('fct_interactions') }}
),

accounts as (
    select account_id, channel, team from {{ ref('dim_accounts') }}
),

counted as (
    select
        interactions.created_on as date_day,
        interactions.platform,
        interactions.medium,
        interactions.interaction_type,
        interactions.direction,
        accounts.channel,
        accounts.team,
        count(*) as interactions,
        sum(case when interactions.is_directed_at_brand then 1 else 0 end) as directed_at_brand,
        sum(case when interactions.relevance = 'spam' then 1 else 0 end) as spam,
        sum(case when interactions.sentiment_label is not null then 1 else 0 end)
            as scored_messages,
        sum(case when interactions.sentiment_label = 'positive' then 1 else 0 end)
            as positive_messages,
        sum(case when interactions.sentiment_label = 'neutral' then 1 else 0 end)
            as neutral_messages,
        sum(case when interactions.sentiment_label = 'negative' then 1 else 0 end)
            as negative_messages,
        avg(interactions.sentiment_score) as mean_sentiment_score
    from interactions
    left join accounts on interactions.owned_account_id = accounts.account_id
    group by 1, 2, 3, 4, 5, 6, 7
)

select
    {{ dbt.concat([
        "cast(date_day as " ~ dbt.type_string() ~ ")", "'|'", "platform", "'|'", "medium", "'|'",
        "interaction_type", "'|'", "direction", "'|'", "coalesce(channel, '')", "'|'",
        "coalesce(team, '')"]) }} as mart_key,
    date_day,
    platform,
    medium,
    interaction_type,
    direction,
    channel,
    team,
    cast(interactions as {{ dbt.type_bigint() }}) as interactions,
    cast(directed_at_brand as {{ dbt.type_bigint() }}) as directed_at_brand,
    cast(spam as {{ dbt.type_bigint() }}) as spam,
    cast(scored_messages as {{ dbt.type_bigint() }}) as scored_messages,
    cast(positive_messages as {{ dbt.type_bigint() }}) as positive_messages,
    cast(neutral_messages as {{ dbt.type_bigint() }}) as neutral_messages,
    cast(negative_messages as {{ dbt.type_bigint() }}) as negative_messages,
    cast(mean_sentiment_score as {{ type_double() }}) as mean_sentiment_score
from counted
