{# ISO day of the week of a date, Monday = 1 ... Sunday = 7. dbt-core has no date_part macro
   and the databases spell this differently. #}
{% macro iso_day_of_week(column) -%}
    {{ return(adapter.dispatch('iso_day_of_week', 'rapport')(column)) }}
{%- endmacro %}

{% macro default__iso_day_of_week(column) -%}
    extract(isodow from {{ column }})
{%- endmacro %}

{% macro snowflake__iso_day_of_week(column) -%}
    dayofweekiso({{ column }})
{%- endmacro %}

{% macro bigquery__iso_day_of_week(column) -%}
    mod(extract(dayofweek from {{ column }}) + 5, 7) + 1
{%- endmacro %}
