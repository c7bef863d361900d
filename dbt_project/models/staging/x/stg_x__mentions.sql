{%- set raw = source('x', 'mentions') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='owned_account_id, id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        {{ dbt.concat(['cast(owned_account_id as varchar)', "':'", 'cast(id as varchar)']) }} as mention_key,
        cast(owned_account_id as varchar) as owned_account_id,
        cast(id as varchar) as tweet_id,
        cast(conversation_id as varchar) as conversation_id,
        cast(author_id as varchar) as author_id,
        {{ column_or_null(raw, 'in_reply_to_user_id', 'varchar') }} as in_reply_to_user_id,
        {{ x_replied_to_tweet_id(raw) }} as replied_to_tweet_id,

        -- text
        author__username as author_username,
        text,
        lang,

        -- numbers
        cast(author__public_metrics__followers_count as bigint) as author_followers_count,
        {{ x_public_metrics() }}

        -- timestamps
        {{ to_utc('created_at') }} as created_at

    from source

)

select * from renamed
