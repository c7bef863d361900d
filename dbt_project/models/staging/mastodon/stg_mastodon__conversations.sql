{%- set raw = source('mastodon', 'conversations') -%}

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
        {{ dbt.concat(['cast(owned_account_id as varchar)', "':'", 'cast(id as varchar)']) }} as conversation_key,
        cast(id as varchar) as conversation_id,
        cast(owned_account_id as varchar) as owned_account_id,
        -- the other participant of a one-to-one thread; null in a group conversation
        case
            when json_array_length(accounts) = 1 then {{ json_text('accounts', '$[0].id') }}
        end as participant_id,
        cast(last_status__id as varchar) as last_status_id,
        cast(last_status__account__id as varchar) as last_status_author_id,
        {{ column_or_null(raw, 'last_status__in_reply_to_id', 'varchar') }} as last_status_in_reply_to_id,
        {{ column_or_null(raw, 'last_status__in_reply_to_account_id', 'varchar') }} as last_status_in_reply_to_account_id,

        -- text
        {{ column_or_null(raw, 'last_status__visibility', 'varchar') }} as last_status_visibility,
        {{ column_or_null(raw, 'last_status__language', 'varchar') }} as last_status_language,
        {{ column_or_null(raw, 'last_status__content_text', 'varchar') }} as last_status_text,

        -- numbers and flags
        cast(json_array_length(accounts) as integer) as participant_count,
        {{ column_or_null(raw, 'unread', 'boolean') }} as is_unread,

        -- timestamps
        {{ to_utc('last_status__created_at') }} as last_status_created_at

    from source

)

select * from renamed
