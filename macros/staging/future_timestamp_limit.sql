{#- The first instant counted as "in the future": the end of the reference date plus setting
    future_tolerance_days. `reference_date` is the SQL of the reference date, by default the
    column of a CTE/relation `reference_dates` in scope. -#}
{% macro future_timestamp_limit(reference_date='reference_dates.reference_date') -%}
    {{ dbt.dateadd(
        'day',
        setting('future_tolerance_days') + 1,
        'cast(' ~ reference_date ~ ' as ' ~ dbt.type_timestamp() ~ ')',
    ) }}
{%- endmacro %}
