with

source as (

    select * from {{ source('meta', 'page_conversations') }}

),

renamed as (

    select

        -- ids
        cast(id as varchar) as conversation_id,
        cast(page_id as varchar) as page_id,

        -- timestamps
        {{ to_utc('updated_time') }} as updated_at

    from source

    qualify row_number() over (
        partition by id
        order by _dlt_load_id desc, _dlt_id desc
    ) = 1

)

select * from renamed
