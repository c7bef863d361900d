{%- set raw = source('meta', 'post_comments') -%}

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
        cast(id as varchar) as comment_id,
        cast(post_id as varchar) as post_id,
        cast(page_id as varchar) as page_id,
        {{ column_or_null(raw, 'parent__id', 'varchar') }} as parent_comment_id,
        cast(from__id as varchar) as author_id,

        -- text
        from__name as author_name,
        message as text,

        -- timestamps
        {{ to_utc('created_time') }} as created_at

    from source

)

select * from renamed
