-- Every person key the facts carry resolves to a dim_contacts row (the foreign key of
-- fct_interactions.contact_key and fct_conversations.contact_key; dim_contacts is built from
-- the same people, so a miss means the two definitions drifted apart).

select 'fct_interactions' as fact, contact_key
from {{ ref('fct_interactions') }}
where contact_key is not null
    and contact_key not in (select contact_key from {{ ref('dim_contacts') }})
union all
select 'fct_conversations', contact_key
from {{ ref('fct_conversations') }}
where contact_key is not null
    and contact_key not in (select contact_key from {{ ref('dim_contacts') }})
