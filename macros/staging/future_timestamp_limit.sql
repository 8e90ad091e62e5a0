{#- The first instant counted as "in the future": the end of the reference date plus
    var future_tolerance_days. Expects a CTE/relation `reference_dates` in scope. -#}
{% macro future_timestamp_limit() -%}
    {%- set tolerance = var('future_tolerance_days', 1) -%}
    {%- if tolerance is not number or tolerance < 0 -%}
        {{ exceptions.raise_compiler_error(
            "var future_tolerance_days must be a whole number of days >= 0, got '"
            ~ tolerance ~ "'.") }}
    {%- endif -%}
    {{ dbt.dateadd('day', (tolerance | int) + 1, 'cast(reference_dates.reference_date as ' ~ dbt.type_timestamp() ~ ')') }}
{%- endmacro %}
