with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('crm', 'lifecycle_stages'),
        partition_by='contact_id, stage, changed_at',
        order_by='_dlt_load_id desc, _source_file desc, _source_line desc'
    ) }}

),

renamed as (

    select

        -- ids
        {{ dbt.concat([
            'cast(contact_id as varchar)', "':'", 'stage', "':'",
            'cast(' ~ to_utc('changed_at') ~ ' as varchar)',
        ]) }} as stage_change_key,
        cast(contact_id as varchar) as contact_id,

        -- text
        stage,

        -- timestamps
        {{ to_utc('changed_at') }} as changed_at

    from source

)

select * from renamed
