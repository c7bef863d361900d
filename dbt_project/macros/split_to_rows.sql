{# One row per item of a delimited text column, as a select-list expression: each input row
   yields as many rows as the text has items (none for null). Replaces dbt.split_part over a
   fixed list of positions, which capped the items (ten inbox tags) and does not parse on
   Postgres or Spark when the position is a column. DuckDB and Postgres both know
   string_to_array and unnest in the select list; Spark spells it explode(split()), whose
   delimiter is a regular expression (a comma is the same either way). #}
{% macro split_to_rows(column, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'rapport')(column, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(column, delimiter) -%}
    unnest(string_to_array({{ column }}, {{ delimiter }}))
{%- endmacro %}

{% macro spark__split_to_rows(column, delimiter) -%}
    explode(split({{ column }}, {{ delimiter }}))
{%- endmacro %}
