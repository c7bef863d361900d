with

source as (

    select * from {{ source('x', 'dm_events') }}

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

    qualify row_number() over (
        partition by owned_account_id, id
        order by _dlt_load_id desc, _dlt_id desc
    ) = 1

)

select * from renamed
