{%- set raw = source('meta', 'accounts') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='platform, id, snapshot_date',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        {{ dbt.concat(["platform", "':'", "cast(id as varchar)", "':'",
                       "cast(snapshot_date as varchar)"]) }} as account_snapshot_key,
        platform,
        cast(id as varchar) as account_id,

        -- text
        coalesce(
            {{ column_or_null(raw, 'username', 'varchar') }},
            {{ column_or_null(raw, 'name', 'varchar') }}
        ) as handle,

        -- numbers (a Page's followers, else its likes where followers are not delivered)
        coalesce(
            {{ column_or_null(raw, 'followers_count', 'bigint') }},
            {{ column_or_null(raw, 'fan_count', 'bigint') }}
        ) as followers_count,
        {{ column_or_null(raw, 'fan_count', 'bigint') }} as fan_count,
        {{ column_or_null(raw, 'follows_count', 'bigint') }} as follows_count,
        {{ column_or_null(raw, 'media_count', 'bigint') }} as media_count,

        -- dates
        cast(snapshot_date as date) as snapshot_date

    from source

)

select * from renamed
