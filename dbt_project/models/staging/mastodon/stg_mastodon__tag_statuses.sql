with

source as (

    -- the latest version of each item (raw keeps every load's)
    {{ latest_version(
        source('mastodon', 'tag_statuses'),
        partition_by='hashtag, id',
        order_by='_dlt_load_id desc, _dlt_id desc'
    ) }}

),

renamed as (

    select

        -- ids
        {{ dbt.concat(['hashtag', "':'", 'cast(id as varchar)']) }} as tag_status_key,
        cast(id as varchar) as status_id,
        cast(account__id as varchar) as author_id,

        -- text
        hashtag,
        account__acct as author_acct,
        language,
        content_text as text,

        -- numbers
        cast(account__followers_count as bigint) as author_followers_count,

        -- timestamps
        {{ to_utc('created_at') }} as created_at

    from source

)

select * from renamed
