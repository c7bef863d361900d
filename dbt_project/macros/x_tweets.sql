{# Columns every X tweet table (mentions, posts, search results) shares, written once. #}

{# The id of the tweet this one replies to: the replied_to entry of referenced_tweets. X lists
   at most a replied_to and a quoted reference, so the first two elements suffice. #}
{% macro x_replied_to_tweet_id(relation) -%}
    {%- set refs = column_or_null(relation, 'referenced_tweets', 'varchar') -%}
    case
        when {{ json_text(refs, '$[0].type') }} = 'replied_to' then {{ json_text(refs, '$[0].id') }}
        when {{ json_text(refs, '$[1].type') }} = 'replied_to' then {{ json_text(refs, '$[1].id') }}
    end
{%- endmacro %}

{# The tweet's public_metrics at load time. #}
{% macro x_public_metrics() -%}
        cast(public_metrics__like_count as bigint) as like_count,
        cast(public_metrics__retweet_count as bigint) as retweet_count,
        cast(public_metrics__reply_count as bigint) as reply_count,
        cast(public_metrics__quote_count as bigint) as quote_count,
        cast(public_metrics__impression_count as bigint) as impression_count,
{%- endmacro %}
