{#- Strict amount in the export's notation (raw_format: decimal_separator, thousands_separator)
    to decimal(18, 2): an optional sign, digits (with a thousands separator configured,
    optionally grouped in threes: 1.234.567,89), and at most two decimals after the decimal
    separator. Anything else gives null, so staging quarantines the row as unparseable_value:
    the other notation ('1.5' when the separator is ','), three decimals, an exponent, hex,
    underscores, currency signs, blanks inside, wrong groups ('1.23,00'), or a value beyond
    decimal(18, 2). Expects cleaned text (clean_text); fmt is raw_format('<table>'). -#}
{% macro parse_amount(column, fmt) -%}
    {{ return(adapter.dispatch('parse_amount', 'customer_analytics')(
        column, fmt.decimal_separator, fmt.thousands_separator)) }}
{%- endmacro %}

{% macro default__parse_amount(column, decimal_separator, thousands_separator) -%}
    {{ exceptions.raise_compiler_error(
        "parse_amount has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__parse_amount to macros/staging/parse_amount.sql.") }}
{%- endmacro %}

{% macro duckdb__parse_amount(column, decimal_separator, thousands_separator) -%}
    {%- set amount = amount_notation(column, decimal_separator, thousands_separator) -%}
    case
        when regexp_full_match({{ column }}, {{ sql_string(amount.pattern) }})
            then try_cast({{ amount.normalised }} as decimal(18, 2))
    end
{%- endmacro %}

{#- The same pattern (Java reads its classes as RE2 does) and Spark's try_cast, which gives
    null beyond decimal(18, 2) as DuckDB's does. -#}
{% macro spark__parse_amount(column, decimal_separator, thousands_separator) -%}
    {%- set amount = amount_notation(column, decimal_separator, thousands_separator) -%}
    case
        when {{ spark_regexp_full_match(column, amount.pattern) }}
            then try_cast({{ amount.normalised }} as decimal(18, 2))
    end
{%- endmacro %}


{#- An amount's notation, for every engine: {'pattern': the regular expression the whole text
    must match (separators as one-character classes, so that '.' and ' ' need no escaping),
    'normalised': the SQL expression of `column` with the separators made '.'-decimal}. -#}
{% macro amount_notation(column, decimal_separator, thousands_separator) -%}
    {%- if thousands_separator == '' -%}
        {%- set whole = '[0-9]+' -%}
        {%- set normalised = column -%}
    {%- else -%}
        {%- set whole = '([0-9]{1,3}([' ~ thousands_separator ~ '][0-9]{3})+|[0-9]+)' -%}
        {%- set normalised = 'replace(' ~ column ~ ', ' ~ sql_string(thousands_separator) ~ ", '')" -%}
    {%- endif -%}
    {%- if decimal_separator != '.' -%}
        {%- set normalised = 'replace(' ~ normalised ~ ', ' ~ sql_string(decimal_separator) ~ ", '.')" -%}
    {%- endif -%}
    {%- set pattern = '[+-]?' ~ whole ~ '([' ~ decimal_separator ~ '][0-9]{1,2})?' -%}
    {{ return({'pattern': pattern, 'normalised': normalised}) }}
{%- endmacro %}
