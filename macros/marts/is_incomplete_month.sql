{#- True when a month (first day) holds the reference date and the reference date is not the
    month's last day: the month is not over yet. `reference_date`: the SQL of the reference
    date, e.g. 'reference_dates.reference_date'. -#}
{% macro is_incomplete_month(month_column, reference_date) -%}
    (
        {{ month_column }} = cast({{ dbt.date_trunc('month', reference_date) }} as date)
        and {{ reference_date }} < cast({{ dbt.last_day(month_column, 'month') }} as date)
    )
{%- endmacro %}
