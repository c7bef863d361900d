{#
  Deletions on the platforms (tombstones) reach the warehouse (docs/sources.md, "Deleted
  items"). Ingestion quarantines an item that says it was deleted with the reason
  var('tombstone_reason') and the deleted item's id; int_tombstones lists them, and these
  macros say what they remove, so every model that keeps rows across nights (int_messages,
  fct_interactions) and every model built from staging directly drops the same rows.
#}

{# The tombstones of the quarantine table of raw table source(source_name, table_name), or
   no rows while it does not exist: dlt creates it with the first quarantined item.
   The quarantine table is a table variant of the resource, not a dbt source of its own:
   dagster-dbt keys a dbt source [source, table], and two sources may not share the key of
   the resource's asset. Depending on the resource's source keeps lineage raw -> here. #}
{% macro quarantined_tombstones(source_name, table_name, platform, item_kind) -%}
    {%- set resource = source(source_name, table_name) -%}
    {%- set relation = adapter.get_relation(
        database=resource.database, schema=resource.schema,
        identifier=table_name ~ '_quarantine') if execute else none -%}
    {%- set exists = relation is not none -%}
    select
        cast('{{ source_name }}' as {{ dbt.type_string() }}) as source_name,
        cast('{{ table_name }}' as {{ dbt.type_string() }}) as source_table,
        cast('{{ platform }}' as {{ dbt.type_string() }}) as platform,
        cast('{{ item_kind }}' as {{ dbt.type_string() }}) as item_kind,
    {%- if exists %}
        cast(item_id as {{ dbt.type_string() }}) as item_id,
        {{ to_utc('quarantined_at') }} as quarantined_at
    from {{ relation }}
    where reason = '{{ var("tombstone_reason") }}'
        -- a tombstone naming no item (a compliance event without an id) removes nothing
        and item_id is not null and trim(item_id) <> ''
    {%- else %}
        cast(null as {{ dbt.type_string() }}) as item_id,
        cast(null as {{ dbt.type_timestamp() }}) as quarantined_at
    from (select 1 as no_quarantine_table_yet) as empty_source
    where 1 = 0
    {%- endif %}
{%- endmacro %}


{# message_key (platform:message_id) of every message a tombstone removes: the item itself
   (a post, comment, reply, mention, DM, status), the status of a Mastodon notification or the
   last status of a Mastodon conversation whose status is gone, and every message of a deleted
   Messenger thread. Replies to a removed message are not removed (their parent id dangles). #}
{% macro tombstoned_message_keys() -%}
    select message_key
    from {{ ref('int_tombstones') }}
    where message_key is not null
    union
    select {{ dbt.concat(["'facebook:'", "thread_messages.message_id"]) }}
    from {{ ref('stg_meta__conversation_messages') }} as thread_messages
    inner join {{ ref('int_tombstones') }} as deleted_threads
        on thread_messages.conversation_id = deleted_threads.item_id
    where deleted_threads.source_name = 'meta'
        and deleted_threads.source_table = 'page_conversations'
{%- endmacro %}


{# notification_key of every Mastodon notification a tombstone removes: the notification
   itself (its status is gone) and every notification about a removed status (a favourite or
   reblog means nothing without its status; Mastodon drops reblogs of a deleted status too). #}
{% macro tombstoned_notification_keys() -%}
    select notifications.notification_key
    from {{ ref('stg_mastodon__notifications') }} as notifications
    where notifications.notification_id in (
            select item_id from {{ ref('int_tombstones') }}
            where source_name = 'mastodon' and source_table = 'notifications'
        )
        or {{ dbt.concat(["'mastodon:'", "notifications.status_id"]) }} in (
            select message_key from {{ ref('int_tombstones') }} where message_key is not null
        )
{%- endmacro %}


{# interaction_id (as fct_interactions builds it) of every interaction a tombstone removes. #}
{% macro tombstoned_interaction_ids() -%}
    {{ tombstoned_message_keys() }}
    union
    select {{ dbt.concat(["'mastodon:'", "notification_type", "':'", "notification_key"]) }}
    from {{ ref('stg_mastodon__notifications') }}
    where notification_key in ({{ tombstoned_notification_keys() }})
{%- endmacro %}


{# Post-hook of an incremental model: delete the rows a tombstone removes that earlier runs
   wrote. The model's own select already leaves them out, but delete+insert only replaces the
   keys it writes again, so a row loaded on an earlier night would stay. #}
{% macro delete_tombstoned(key_column, removed_keys_sql) -%}
    delete from {{ this }}
    where {{ key_column }} in ({{ removed_keys_sql }})
{%- endmacro %}


{# Post-hook of fct_interactions, before delete_tombstoned: the rows an earlier run wrote in
   a conversation that held a removed message take their conversation from
   int_messages_threaded again (a conversation whose first message is deleted starts at its
   next one, as fct_conversations says), however old they are. #}
{% macro reassign_conversations_of_tombstoned() -%}
    update {{ this }}
    set conversation_id = (
        select threaded.conversation_id
        from {{ ref('int_messages_threaded') }} as threaded
        where threaded.message_key = {{ this }}.interaction_id
    )
    where conversation_id in (
        select held.conversation_id
        from {{ this }} as held
        where held.interaction_id in ({{ tombstoned_message_keys() }})
    )
{%- endmacro %}
