with

source as (

    select * from {{ source('mastodon', 'tag_statuses') }}

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

    qualify row_number() over (
        partition by hashtag, id
        order by _dlt_load_id desc, _dlt_id desc
    ) = 1

)

select * from renamed
