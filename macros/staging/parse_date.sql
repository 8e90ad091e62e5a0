{#- Strict calendar date in the export's notation (raw_format: date_format): YYYY-MM-DD when
    date_format is '', else the format (e.g. '%d.%m.%Y'; see strptime_pattern), matched in
    full. Null when the text is not a real date (31 April, 29 February 2023, a two- or
    five-digit year, BC, a time of day), so staging quarantines the row as unparseable_value;
    the plausible range is the base model's check (out_of_range). Expects cleaned text
    (clean_text); fmt is raw_format('<table>'). -#}
{% macro parse_date(column, fmt) -%}
    {{ return(adapter.dispatch('parse_date', 'customer_analytics')(column, fmt.date_format)) }}
{%- endmacro %}

{% macro default__parse_date(column, date_format) -%}
    {{ exceptions.raise_compiler_error(
        "parse_date has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__parse_date to macros/staging/parse_date.sql.") }}
{%- endmacro %}

{% macro duckdb__parse_date(column, date_format) -%}
    {%- if date_format == '' -%}
    case
        when regexp_full_match({{ column }}, '[0-9]{4}-[0-9]{2}-[0-9]{2}')
            then try_cast({{ column }} as date)
    end
    {%- else -%}
    case
        when regexp_full_match({{ column }}, {{ sql_string(strptime_pattern(date_format)) }})
            then cast(try_strptime({{ column }}, {{ sql_string(date_format) }}) as date)
    end
    {%- endif -%}
{%- endmacro %}

{#- The same full match first; then Spark's try_cast of YYYY-MM-DD (null for 31 April, as in
    DuckDB), the format read field by field as DuckDB's strptime reads it
    (spark_strptime_text). -#}
{% macro spark__parse_date(column, date_format) -%}
    {%- if date_format == '' -%}
    case
        when {{ spark_regexp_full_match(column, '[0-9]{4}-[0-9]{2}-[0-9]{2}') }}
            then try_cast({{ column }} as date)
    end
    {%- else -%}
    case
        when {{ spark_regexp_full_match(column, strptime_pattern(date_format)) }}
            then try_cast({{ spark_strptime_text(column, date_format) }} as date)
    end
    {%- endif -%}
{%- endmacro %}
