-- CRM lifecycle stages as validity intervals: one row per stage change of a contact,
-- valid from changed_at until the next change (null: still current).

with stages as (
    select * from {{ ref('stg_crm__lifecycle_stages') }}
)

select
    stage_change_key,
    contact_id,
    stage,
    changed_at as valid_from,
    lead(changed_at) over (partition by contact_id order by changed_at, stage) as valid_to
from stages
