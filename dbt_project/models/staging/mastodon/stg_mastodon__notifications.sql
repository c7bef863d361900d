{%- set raw = source('mastodon', 'notifications') -%}

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
        {{ dbt.concat(['cast(owned_account_id as varchar)', "':'", 'cast(id as varchar)']) }} as notification_key,
        cast(id as varchar) as notification_id,
        cast(owned_account_id as varchar) as owned_account_id,
        cast(account__id as varchar) as actor_id,
        {{ column_or_null(raw, 'status__id', 'varchar') }} as status_id,
        {{ column_or_null(raw, 'status__account__id', 'varchar') }} as status_author_id,
        {{ column_or_null(raw, 'status__in_reply_to_id', 'varchar') }} as status_in_reply_to_id,
        {{ column_or_null(raw, 'status__in_reply_to_account_id', 'varchar') }} as status_in_reply_to_account_id,

        -- text
        type as notification_type,
        account__acct as actor_acct,
        {{ column_or_null(raw, 'status__visibility', 'varchar') }} as status_visibility,
        {{ column_or_null(raw, 'status__language', 'varchar') }} as status_language,
        {{ column_or_null(raw, 'status__content_text', 'varchar') }} as status_text,

        -- numbers
        cast(account__followers_count as bigint) as actor_followers_count,

        -- timestamps
        {{ to_utc(column_or_null(raw, 'status__created_at', 'timestamptz')) }} as status_created_at,
        {{ to_utc('created_at') }} as created_at

    from source

)

select * from renamed
