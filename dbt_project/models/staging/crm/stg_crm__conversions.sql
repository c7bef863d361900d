with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('crm', 'conversions'),
        partition_by='conversion_id',
        order_by='_dlt_load_id desc, _source_file desc, _source_line desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(conversion_id as varchar) as conversion_id,
        cast(contact_id as varchar) as contact_id,

        -- text
        kind,
        source,
        source_platform,
        campaign,

        -- timestamps
        {{ to_utc('occurred_at') }} as occurred_at,
        {{ to_utc('updated_at') }} as updated_at

    from source

)

select * from renamed
