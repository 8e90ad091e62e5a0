{#-
    Strict timestamp to a UTC timestamp (without time zone), in the export's notation
    (raw_format: timestamp_format, timezone). Null when the text is not a real timestamp, so
    staging quarantines the row as unparseable_value (a real but implausibly early one is the
    base model's out_of_range, see earliest_valid_timestamp).

    - timestamp_format '' (ISO 8601): YYYY-MM-DD, 'T' or a blank, hh:mm[:ss[.fraction]], then
      optionally an offset: Z, ±hh:mm, ±hhmm or ±hh, at most 14:00 either way. No special
      literals ('infinity', 'epoch', 'now' ...), no BC, no years beyond four digits, no 24:00
      or leap second, no 31 April. The text must match this form in full before DuckDB's cast
      reads it (the cast alone accepts 'infinity', 'epoch' and offsets such as +99:00).
    - timestamp_format set (e.g. '%d.%m.%Y %H:%M'): the text must match the format in full
      (strptime_pattern), then strptime reads it; such text has no offset.

    Text without an offset is local time in raw_format.timezone, converted to UTC. DuckDB's
    rule at daylight-saving changes (docs/raw-contract.md, "Local time and daylight saving"): a local time
    in the spring gap is read with the offset in force before the change (Berlin 02:30 on
    31 March 2024 = 01:30 UTC, the instant 03:30 CEST denotes); a local time in the repeated
    autumn hour is the second one (Berlin 02:30 on 27 October 2024 = 01:30 UTC, CET).
    Expects cleaned text (clean_text); fmt is raw_format('<table>').
-#}
{% macro parse_timestamp(column, fmt) -%}
    {{ return(adapter.dispatch('parse_timestamp', 'customer_analytics')(
        column, fmt.timestamp_format, fmt.timezone)) }}
{%- endmacro %}

{% macro default__parse_timestamp(column, timestamp_format, timezone) -%}
    {{ exceptions.raise_compiler_error(
        "parse_timestamp has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__parse_timestamp to macros/staging/parse_timestamp.sql.") }}
{%- endmacro %}

{% macro duckdb__parse_timestamp(column, timestamp_format, timezone) -%}
    {%- if timestamp_format == '' -%}
        {%- set iso_pattern =
            '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?'
            ~ '(Z|[+-](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+-]14(:?00)?)?' -%}
        {#- DuckDB's cast needs the seconds when an offset follows: hh:mm -> hh:mm:00 -#}
        {%- set with_seconds = "case when substr(" ~ column ~ ", 17, 1) = ':' then " ~ column
            ~ " else substr(" ~ column ~ ", 1, 16) || ':00' || substr(" ~ column ~ ", 17) end" -%}
        {%- set has_offset = "(ends_with(" ~ column ~ ", 'Z') or contains(substr(" ~ column
            ~ ", 17), '+') or contains(substr(" ~ column ~ ", 17), '-'))" -%}
    case
        when not regexp_full_match({{ column }}, {{ sql_string(iso_pattern) }}) then null
        when {{ has_offset }}
            then try_cast({{ with_seconds }} as timestamptz) at time zone 'UTC'
        else {{ local_timestamp_to_utc('try_cast(' ~ column ~ ' as ' ~ dbt.type_timestamp() ~ ')', timezone) }}
    end
    {%- else -%}
    case
        when regexp_full_match({{ column }}, {{ sql_string(strptime_pattern(timestamp_format)) }})
            then {{ local_timestamp_to_utc(
                'try_strptime(' ~ column ~ ', ' ~ sql_string(timestamp_format) ~ ')', timezone) }}
    end
    {%- endif -%}
{%- endmacro %}

{#- Spark: the same full match first (spark_regexp_full_match), then Spark's try_cast, which
    reads this ISO form as DuckDB's does (fraction cut to microseconds, offsets Z, ±hh, ±hhmm,
    ±hh:mm) once the seconds are there: it too gives null for hh:mm followed by an offset.
    Text without an offset is read as UTC ('Z' appended), then converted from
    raw_format.timezone (local_timestamp_to_utc: DuckDB's daylight-saving rule). A format is
    read as DuckDB's strptime reads it (spark_strptime_text). The zone in the text makes the
    result independent of the session time zone; shown in UTC, it reads as DuckDB's. -#}
{% macro spark__parse_timestamp(column, timestamp_format, timezone) -%}
    {%- if timestamp_format == '' -%}
        {%- set iso_pattern =
            '[0-9]{4}-[0-9]{2}-[0-9]{2}[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9]([.][0-9]{1,9})?)?'
            ~ '(Z|[+-](0[0-9]|1[0-3])(:?[0-5][0-9])?|[+-]14(:?00)?)?' -%}
        {%- set with_seconds = "case when substr(" ~ column ~ ", 17, 1) = ':' then " ~ column
            ~ " else concat(substr(" ~ column ~ ", 1, 16), ':00', substr(" ~ column ~ ", 17)) end" -%}
    case
        when not {{ spark_regexp_full_match(column, iso_pattern) }} then null
        when substr({{ column }}, 17) rlike '[Z+-]'
            then try_cast({{ with_seconds }} as {{ dbt.type_timestamp() }})
        else {{ local_timestamp_to_utc(
            'try_cast(concat(' ~ with_seconds ~ ", 'Z') as " ~ dbt.type_timestamp() ~ ')', timezone) }}
    end
    {%- else -%}
    case
        when {{ spark_regexp_full_match(column, strptime_pattern(timestamp_format)) }}
            then {{ local_timestamp_to_utc(
                'try_cast(concat(' ~ spark_strptime_text(column, timestamp_format) ~ ", 'Z') as "
                ~ dbt.type_timestamp() ~ ')', timezone) }}
    end
    {%- endif -%}
{%- endmacro %}
