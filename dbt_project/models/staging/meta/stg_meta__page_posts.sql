{%- set raw = source('meta', 'page_posts') -%}

with

source as (

    select * from {{ raw }}

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

    qualify row_number() over (
        partition by id
        order by _dlt_load_id desc, _dlt_id desc
    ) = 1

)

select * from renamed
