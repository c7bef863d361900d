{%- set raw = source('crm', 'contacts') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='contact_id',
        order_by='_dlt_load_id desc, _source_file desc, _source_line desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(contact_id as varchar) as contact_id,
        {{ column_or_null(raw, 'x_user_id', 'varchar') }} as x_user_id,
        {{ column_or_null(raw, 'facebook_user_id', 'varchar') }} as facebook_user_id,
        {{ column_or_null(raw, 'instagram_user_id', 'varchar') }} as instagram_user_id,
        {{ column_or_null(raw, 'mastodon_account_id', 'varchar') }} as mastodon_account_id,

        -- text
        lifecycle_stage,

        -- timestamps
        {{ to_utc('created_at') }} as created_at,
        {{ to_utc('updated_at') }} as updated_at

    from source

)

select * from renamed
