{#- Parse ISO 8601 text with a UTC offset ('Z', '+01:00' …) into a UTC timestamp without time
    zone. Text without an offset is read as UTC. Unparseable text gives null (staging then
    quarantines the row as unparseable_value): the offset is never dropped silently. -#}
{% macro parse_timestamp_utc(column) -%}
    {{ return(adapter.dispatch('parse_timestamp_utc', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro default__parse_timestamp_utc(column) -%}
    {{ dbt.safe_cast(column, dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__parse_timestamp_utc(column) -%}
    (try_cast({{ column }} as timestamptz) at time zone 'UTC')
{%- endmacro %}
