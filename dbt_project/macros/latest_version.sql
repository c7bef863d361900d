{#
  The latest version of each item of a raw table: raw tables keep what every load delivered,
  staging keeps one row per key. Portable: `qualify` where the warehouse has it (DuckDB,
  Snowflake, BigQuery, Databricks), `distinct on` in Postgres.

  relation:     the raw relation (or a CTE name)
  partition_by: the key columns, comma separated
  order_by:     the order in which the first row is the latest version
#}
{% macro latest_version(relation, partition_by, order_by) -%}
    {{ return(adapter.dispatch('latest_version')(relation, partition_by, order_by)) }}
{%- endmacro %}

{% macro default__latest_version(relation, partition_by, order_by) -%}
    select * from {{ relation }}
    qualify row_number() over (partition by {{ partition_by }} order by {{ order_by }}) = 1
{%- endmacro %}

{% macro postgres__latest_version(relation, partition_by, order_by) -%}
    select distinct on ({{ partition_by }}) * from {{ relation }}
    order by {{ partition_by }}, {{ order_by }}
{%- endmacro %}
