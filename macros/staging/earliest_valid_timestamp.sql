{#- The earliest plausible timestamp: setting earliest_valid_date (default 2000-01-01) at
    00:00 UTC, as a SQL literal. A real timestamp before it (year 1, 1970-01-01 …) is
    quarantined as out_of_range. -#}
{% macro earliest_valid_timestamp() -%}
    cast({{ sql_string(setting('earliest_valid_date')) }} as {{ dbt.type_timestamp() }})
{%- endmacro %}
