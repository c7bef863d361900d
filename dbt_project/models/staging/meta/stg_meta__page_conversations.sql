with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('meta', 'page_conversations'),
        partition_by='id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as conversation_id,
        cast(page_id as varchar) as page_id,

        -- timestamps
        {{ to_utc('updated_time') }} as updated_at

    from source

)

select * from renamed
