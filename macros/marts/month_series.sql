{#- A relation with one column `month` (date, first of month) for every month from the month
    of start_date through the month of end_date. Both arguments are SQL expressions that may
    reference a one-row CTE/relation named in from_relation. -#}
{% macro month_series(start_date, end_date, from_relation) -%}
    {{ return(adapter.dispatch('month_series', 'customer_analytics')(start_date, end_date, from_relation)) }}
{%- endmacro %}

{% macro default__month_series(start_date, end_date, from_relation) -%}
    {#- portable: up to 1,000 months from a cross join of digits -#}
    with digits as (
        select 0 as digit union all select 1 union all select 2 union all select 3
        union all select 4 union all select 5 union all select 6 union all select 7
        union all select 8 union all select 9
    ),
    offsets as (
        select hundreds.digit * 100 + tens.digit * 10 + ones.digit as month_offset
        from digits as hundreds cross join digits as tens cross join digits as ones
    )
    select cast({{ dbt.dateadd('month', 'offsets.month_offset', dbt.date_trunc('month', start_date)) }} as date) as month
    from offsets
    cross join {{ from_relation }}
    where offsets.month_offset <= {{ month_diff(start_date, end_date) }}
{%- endmacro %}

{% macro duckdb__month_series(start_date, end_date, from_relation) -%}
    select cast(unnest(generate_series(
        cast({{ dbt.date_trunc('month', start_date) }} as date),
        cast({{ dbt.date_trunc('month', end_date) }} as date),
        interval 1 month
    )) as date) as month
    from {{ from_relation }}
{%- endmacro %}
