with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('x', 'dm_events'),
        partition_by='owned_account_id, id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        {{ dbt.concat(['cast(owned_account_id as varchar)', "':'", 'cast(id as varchar)']) }} as dm_event_key,
        cast(owned_account_id as varchar) as owned_account_id,
        cast(id as varchar) as dm_event_id,
        cast(dm_conversation_id as varchar) as dm_conversation_id,
        cast(sender_id as varchar) as sender_id,

        -- text
        event_type,
        author__username as sender_username,
        text,

        -- numbers
        cast(author__public_metrics__followers_count as bigint) as sender_followers_count,

        -- timestamps
        {{ to_utc('created_at') }} as created_at

    from source

)

select * from renamed
