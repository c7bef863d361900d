{#
  The rows an incremental model (re)writes on an incremental run, selected from the CTE
  `rows` that computes the whole model:
  - every row whose key the model does not hold yet, however old (first night after a
    backfill, late-delivered messages);
  - every row from var('lookback_days') before the oldest of those new rows (or before the
    newest row held, when nothing is new) onwards: late or edited data and everything derived
    across rows (threads, conversations) near the new rows is re-derived;
  - in a backfill, every row from var('window_start') onwards (the re-read days and the later
    rows that may refer to them).
  Rows older than that keep what an earlier run computed; `dbt build --full-refresh` recomputes
  everything. Timestamps are plain UTC timestamps.
#}
{% macro incremental_reprocess(rows, key, at) -%}
select {{ rows }}.*
from {{ rows }}
cross join (
    select min(candidate.{{ at }}) as oldest_new
    from {{ rows }} as candidate
    where not exists (
        select 1 from {{ this }} as held where held.{{ key }} = candidate.{{ key }}
    )
) as new_rows
cross join (select max({{ at }}) as newest_held from {{ this }}) as held_rows
where {{ rows }}.{{ at }} >= {{ dbt.dateadd(
        'day', -1 * var('lookback_days') | int,
        'coalesce(least(new_rows.oldest_new, held_rows.newest_held), new_rows.oldest_new, '
        ~ 'held_rows.newest_held)') }}
{%- if var('window_start', none) %}
    or {{ rows }}.{{ at }} >= cast('{{ var("window_start") }}' as {{ dbt.type_timestamp() }})
{%- endif %}
{%- endmacro %}
