{%- set raw = source('meta', 'page_posts') -%}

with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        raw,
        partition_by='id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as post_id,
        cast(page_id as varchar) as page_id,
        cast(from__id as varchar) as author_id,

        -- text
        message as text,

        -- numbers
        {{ column_or_null(raw, 'reactions__summary__total_count', 'bigint') }} as reactions_count,
        {{ column_or_null(raw, 'shares__count', 'bigint') }} as shares_count,
        {{ column_or_null(raw, 'insights__impressions', 'bigint') }} as impressions_count,

        -- timestamps
        {{ to_utc('created_time') }} as created_at

    from source

)

select * from renamed
