{# A timestamp-with-time-zone as a plain UTC timestamp, whatever the session time zone. #}
{% macro to_utc(column) -%}
    {{ return(adapter.dispatch('to_utc', 'rapport')(column)) }}
{%- endmacro %}

{% macro default__to_utc(column) -%}
    timezone('UTC', {{ column }})
{%- endmacro %}

{% macro postgres__to_utc(column) -%}
    ({{ column }} at time zone 'UTC')
{%- endmacro %}
