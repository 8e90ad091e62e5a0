{#- Strict integer: text of an optional sign and ASCII digits only, within BIGINT. Anything else
    gives null, so staging quarantines the row as unparseable_value: a fraction ('6.5', which a
    cast would round to 7), an exponent ('1e3'), hex ('0x10'), underscores ('1_000'), a
    thousands separator or a blank inside, non-ASCII digits, or a value beyond BIGINT (no
    overflow error). Expects cleaned text (clean_text). -#}
{% macro parse_integer(column) -%}
    {{ return(adapter.dispatch('parse_integer', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro default__parse_integer(column) -%}
    {{ exceptions.raise_compiler_error(
        "parse_integer has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__parse_integer to macros/staging/parse_integer.sql.") }}
{%- endmacro %}

{% macro duckdb__parse_integer(column) -%}
    case
        when regexp_full_match({{ column }}, '[+-]?[0-9]+')
            then try_cast({{ column }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}

{% macro spark__parse_integer(column) -%}
    case
        when {{ spark_regexp_full_match(column, '[+-]?[0-9]+') }}
            then try_cast({{ column }} as {{ dbt.type_bigint() }})
    end
{%- endmacro %}
