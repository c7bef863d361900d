with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('meta', 'ig_media'),
        partition_by='id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as media_id,
        cast(account_id as varchar) as account_id,

        -- text
        caption,
        media_type,

        -- numbers
        cast(like_count as bigint) as like_count,
        cast(comments_count as bigint) as comments_count,

        -- timestamps
        {{ to_utc('"timestamp"') }} as created_at

    from source

)

select * from renamed
