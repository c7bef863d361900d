with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('meta', 'conversation_messages'),
        partition_by='id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as message_id,
        cast(conversation_id as varchar) as conversation_id,
        cast(page_id as varchar) as page_id,
        cast(from__id as varchar) as sender_id,

        -- text
        from__name as sender_name,
        message as text,

        -- timestamps
        {{ to_utc('created_time') }} as created_at

    from source

)

select * from renamed
