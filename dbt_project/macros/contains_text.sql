{#
    True where `haystack` contains `needle` as literal text. Seed keywords and markers are
    matched with this, never as LIKE patterns: a keyword "brew_ly" or a marker "100% free"
    would otherwise match "brewfly" or "100 cups, free". dbt.position is dbt's cross-database
    macro (position(... in ...) on DuckDB and Postgres); an adapter that needs another form
    gets its own contains_text implementation.
#}
{% macro contains_text(haystack, needle) -%}
    {{ return(adapter.dispatch('contains_text', 'rapport')(haystack, needle)) }}
{%- endmacro %}

{% macro default__contains_text(haystack, needle) -%}
    ({{ dbt.position(needle, haystack) }} > 0)
{%- endmacro %}
