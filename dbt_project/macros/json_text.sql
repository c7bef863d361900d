{# Text at a JSON path of a JSON column; one dispatchable place for the dialect difference. #}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text', 'rapport')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    json_extract_string({{ column }}, '{{ path }}')
{%- endmacro %}

{% macro postgres__json_text(column, path) -%}
    jsonb_path_query_first({{ column }}::jsonb, '{{ path }}') #>> '{}'
{%- endmacro %}
