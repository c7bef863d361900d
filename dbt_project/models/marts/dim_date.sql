-- One row per UTC day, from the Monday of the week of the first interaction to the Sunday of
-- the week of the last, both included, so every daily and weekly mart finds its day here:
-- each mart's day is the day of an interaction, message, reply or alert hour (all in
-- fct_interactions' span), and each weekly mart's week is a whole ISO week of it. No
-- interactions yet, no days.

{%- set interactions = ref('fct_interactions') %}
{%- set first_day = "(select " ~ dbt.date_trunc('week', 'min(created_on)') ~ " from " ~ interactions ~ ")" %}
{%- set last_day = "(select " ~ dbt.dateadd('day', 6, dbt.date_trunc('week', 'max(created_on)')) ~ " from " ~ interactions ~ ")" %}

with spine as (
    {{ inclusive_date_spine('day', first_day, last_day) }}
),

days as (
    select cast(date_day as date) as date_day from spine
),

final as (
    select
        date_day,
        cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
        cast(extract(year from date_day) as {{ dbt.type_int() }}) as year_number,
        cast(extract(month from date_day) as {{ dbt.type_int() }}) as month_number,
        cast({{ iso_day_of_week('date_day') }} as {{ dbt.type_int() }}) as iso_day_of_week,
        {{ iso_day_of_week('date_day') }} >= 6 as is_weekend
    from days
)

select * from final
