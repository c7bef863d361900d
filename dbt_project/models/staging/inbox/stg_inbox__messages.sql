{%- set raw = source('inbox', 'inbox_messages') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='message_id',
        order_by='_dlt_load_id desc, _source_file desc, _source_line desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(message_id as varchar) as message_id,
        cast(account_id as varchar) as account_id,

        -- text
        platform,
        team,
        assignee,
        {{ column_or_null(raw, 'tags', 'varchar') }} as tags,
        {{ column_or_null(raw, 'briefing', 'varchar') }} as briefing,
        status,
        _source_file as source_file,

        -- numbers
        cast(_source_line as bigint) as source_line,

        -- timestamps
        {{ to_utc('received_at') }} as received_at,
        {{ to_utc(column_or_null(raw, 'closed_at', 'timestamptz')) }} as closed_at

    from source

)

select * from renamed
