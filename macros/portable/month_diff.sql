{#- The months from start_date to end_date as month boundaries crossed (DuckDB's
    date_diff('month', ...)): 31 January to 1 February is 1, 1 January to 31 January is 0.
    Spark's dbt.datediff(..., 'month') counts one too many when both dates are month ends and
    the end's day is the smaller (31 January to 30 April gives 4), so the portable form
    compares year and month numbers. -#}
{% macro month_diff(start_date, end_date) -%}
    {{ return(adapter.dispatch('month_diff', 'customer_analytics')(start_date, end_date)) }}
{%- endmacro %}

{% macro default__month_diff(start_date, end_date) -%}
    (
        (extract(year from {{ end_date }}) - extract(year from {{ start_date }})) * 12
        + extract(month from {{ end_date }}) - extract(month from {{ start_date }})
    )
{%- endmacro %}

{% macro duckdb__month_diff(start_date, end_date) -%}
    {{ dbt.datediff(start_date, end_date, 'month') }}
{%- endmacro %}
