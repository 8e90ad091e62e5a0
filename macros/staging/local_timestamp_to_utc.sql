{#- A timestamp without time zone that holds local time in an IANA time zone (raw_format's
    timezone), as UTC. For 'UTC' the value itself. DuckDB's rule at daylight-saving changes
    is in parse_timestamp and docs/raw-contract.md, "Local time and daylight saving". -#}
{% macro local_timestamp_to_utc(timestamp_sql, timezone) -%}
    {{ return(adapter.dispatch('local_timestamp_to_utc', 'customer_analytics')(timestamp_sql, timezone)) }}
{%- endmacro %}

{% macro default__local_timestamp_to_utc(timestamp_sql, timezone) -%}
    {%- if timezone == 'UTC' -%}
        {{ timestamp_sql }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "local_timestamp_to_utc has no implementation for adapter '" ~ adapter.type()
            ~ "' (raw_format.timezone '" ~ timezone ~ "'): add " ~ adapter.type()
            ~ "__local_timestamp_to_utc to macros/staging/local_timestamp_to_utc.sql.") }}
    {%- endif -%}
{%- endmacro %}

{% macro duckdb__local_timestamp_to_utc(timestamp_sql, timezone) -%}
    {%- if timezone == 'UTC' -%}
        {{ timestamp_sql }}
    {%- else -%}
        (timezone({{ sql_string(timezone) }}, {{ timestamp_sql }}) at time zone 'UTC')
    {%- endif -%}
{%- endmacro %}
