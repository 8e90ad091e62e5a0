{#- Trimmed text, with empty text as null. Trimmed of blanks: DuckDB's trim removes every
    Unicode space separator (category Zs: ' ', no-break space, ideographic space …), not a tab,
    line break or zero-width space. -#}
{% macro clean_text(column) -%}
    {{ return(adapter.dispatch('clean_text', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro default__clean_text(column) -%}
    {{ exceptions.raise_compiler_error(
        "clean_text has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__clean_text to macros/staging/clean_text.sql.") }}
{%- endmacro %}

{% macro duckdb__clean_text(column) -%}
    nullif(trim({{ column }}), '')
{%- endmacro %}

{#- Spark's trim removes ' ' only; given the characters, it removes those: DuckDB's Zs (the
    Jinja escapes become the characters themselves in the SQL). -#}
{% macro spark__clean_text(column) -%}
    {%- set blanks = ' \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000' -%}
    nullif(trim(both {{ sql_string(blanks) }} from {{ column }}), '')
{%- endmacro %}
