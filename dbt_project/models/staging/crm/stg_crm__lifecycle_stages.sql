with

source as (

    select * from {{ source('crm', 'lifecycle_stages') }}

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

    qualify row_number() over (
        partition by contact_id, stage, changed_at
        order by _dlt_load_id desc, _source_file desc, _source_line desc
    ) = 1

)

select * from renamed
