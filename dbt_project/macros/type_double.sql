{# An 8-byte floating point type. dbt.type_float() is a 4-byte float on DuckDB, too coarse for
   scores, baselines and rates that BI compares and unit tests pin down. #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'rapport')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro bigquery__type_double() -%}
    float64
{%- endmacro %}
