{%- set raw = source('x', 'posts') -%}
{%- set referenced_tweets = column_or_null(raw, 'referenced_tweets', 'varchar') -%}

with

source as (

    select * from {{ raw }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as tweet_id,
        cast(owned_account_id as varchar) as owned_account_id,
        cast(conversation_id as varchar) as conversation_id,
        cast(author_id as varchar) as author_id,
        {{ column_or_null(raw, 'in_reply_to_user_id', 'varchar') }} as in_reply_to_user_id,
        -- X lists at most a replied_to and a quoted reference, so the first two elements suffice
        case
            when {{ json_text(referenced_tweets, '$[0].type') }} = 'replied_to'
                then {{ json_text(referenced_tweets, '$[0].id') }}
            when {{ json_text(referenced_tweets, '$[1].type') }} = 'replied_to'
                then {{ json_text(referenced_tweets, '$[1].id') }}
        end as replied_to_tweet_id,

        -- text
        text,
        lang,

        -- numbers
        {{ column_or_null(raw, 'author__public_metrics__followers_count', 'bigint') }}
            as author_followers_count,
        cast(public_metrics__like_count as bigint) as like_count,
        cast(public_metrics__retweet_count as bigint) as retweet_count,
        cast(public_metrics__reply_count as bigint) as reply_count,
        cast(public_metrics__quote_count as bigint) as quote_count,
        cast(public_metrics__impression_count as bigint) as impression_count,

        -- timestamps
        {{ to_utc('created_at') }} as created_at

    from source

    qualify row_number() over (
        partition by id
        order by _dlt_load_id desc, _dlt_id desc
    ) = 1

)

select * from renamed
