{# Continuous percentile (0-1) of a column as an aggregate. The ordered-set form is standard
   SQL (Postgres, DuckDB, Snowflake); BigQuery only has it as a window function. #}
{% macro percentile(column, fraction) -%}
    {{ return(adapter.dispatch('percentile', 'rapport')(column, fraction)) }}
{%- endmacro %}

{% macro default__percentile(column, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}
