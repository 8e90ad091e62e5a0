{#- True when a month (first day) holds the reference date and the reference date is not the
    month's last day: the month is not over yet. Expects a CTE `reference_dates` in scope. -#}
{% macro is_incomplete_month(month_column) -%}
    (
        {{ month_column }} = cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
        and reference_dates.reference_date < cast({{ dbt.last_day(month_column, 'month') }} as date)
    )
{%- endmacro %}
