{%- set raw = source('mastodon', 'statuses') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as status_id,
        cast(owned_account_id as varchar) as owned_account_id,
        cast(account__id as varchar) as author_id,
        {{ column_or_null(raw, 'in_reply_to_id', 'varchar') }} as in_reply_to_id,
        {{ column_or_null(raw, 'in_reply_to_account_id', 'varchar') }} as in_reply_to_account_id,
        -- set on a boost: the owned account sharing someone else's status (no text of its own)
        {{ column_or_null(raw, 'reblog__id', 'varchar') }} as reblog_of_status_id,

        -- text
        visibility,
        language,
        content_text as text,

        -- numbers
        {{ column_or_null(raw, 'account__followers_count', 'bigint') }} as author_followers_count,
        cast(favourites_count as bigint) as favourites_count,
        cast(reblogs_count as bigint) as reblogs_count,
        cast(replies_count as bigint) as replies_count,

        -- timestamps
        {{ to_utc('created_at') }} as created_at

    from source

)

select * from renamed
