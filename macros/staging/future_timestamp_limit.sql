{#- The first instant counted as "in the future": the end of the reference date plus setting
    future_tolerance_days. `reference_date`: the SQL of the reference date, e.g.
    'reference_dates.reference_date'. -#}
{% macro future_timestamp_limit(reference_date) -%}
    {{ dbt.dateadd(
        'day',
        setting('future_tolerance_days') + 1,
        'cast(' ~ reference_date ~ ' as ' ~ dbt.type_timestamp() ~ ')',
    ) }}
{%- endmacro %}
