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

{#- Spark: timestamp_sql is a Spark timestamp whose UTC reading is the local time (what the
    spark__ parsers build, and the value as shown with the profile's session time zone UTC).
    to_utc_timestamp reads a local time in the spring gap with the offset before the change,
    as DuckDB does, but a local time in the repeated autumn hour as the first one (Java's
    rule). The second one is the local time read with the offset in force a day later, when
    that reading shows the same local time again (Berlin 02:30 on 27 October 2024: 01:30 UTC,
    not 00:30); greatest takes it. Outside the repeated hour that reading is the same instant,
    or (in the gap, or the day before a change) not this local time, hence null. -#}
{% macro spark__local_timestamp_to_utc(timestamp_sql, timezone) -%}
    {%- if timezone == 'UTC' -%}
        {{ timestamp_sql }}
    {%- else -%}
        {%- set zone = sql_string(timezone) -%}
        {%- set day = 86400000000 -%}
        {%- set first = 'to_utc_timestamp(' ~ timestamp_sql ~ ', ' ~ zone ~ ')' -%}
        {%- set with_next_days_offset = 'timestamp_micros(unix_micros(to_utc_timestamp(timestamp_micros(unix_micros('
            ~ timestamp_sql ~ ') + ' ~ day ~ '), ' ~ zone ~ ')) - ' ~ day ~ ')' -%}
        greatest(
            {{ first }},
            case
                when from_utc_timestamp({{ with_next_days_offset }}, {{ zone }}) = {{ timestamp_sql }}
                    then {{ with_next_days_offset }}
            end
        )
    {%- endif -%}
{%- endmacro %}
