{%- set raw = source('meta', 'ig_comments') -%}

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
        cast(media_id as varchar) as media_id,
        cast(account_id as varchar) as account_id,
        {{ column_or_null(raw, 'parent_id', 'varchar') }} as parent_comment_id,
        cast(from__id as varchar) as author_id,

        -- text
        from__username as author_username,
        text,

        -- timestamps
        {{ to_utc('"timestamp"') }} as created_at

    from source

)

select * from renamed
