{# Every datepart (day, hour, ...) from start_expr to end_expr, BOTH ends included, as one
   column date_<datepart>; no rows when either bound is null (no data yet).
   dbt.date_spine is not used: it leaves out its end (so dim_date lost the last Sunday and the
   relationships tests of the daily marts failed) and it counts the periods with a query at
   compile time, which fails on an empty warehouse and cannot see a unit test's inputs. #}
{% macro inclusive_date_spine(datepart, start_expr, end_expr) -%}
    {{ return(adapter.dispatch('inclusive_date_spine', 'rapport')(datepart, start_expr, end_expr)) }}
{%- endmacro %}

{# DuckDB and Postgres: a set-returning generate_series, lateral to the bounds. #}
{% macro default__inclusive_date_spine(datepart, start_expr, end_expr) -%}
    select periods.period_start as date_{{ datepart }}
    from
        (
            select
                cast({{ start_expr }} as {{ dbt.type_timestamp() }}) as first_period,
                cast({{ end_expr }} as {{ dbt.type_timestamp() }}) as last_period
        ) as bounds,
        generate_series(bounds.first_period, bounds.last_period, interval '1 {{ datepart }}')
            as periods (period_start)
{%- endmacro %}
