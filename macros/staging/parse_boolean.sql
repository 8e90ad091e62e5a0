{#- Text to boolean: true/t/1/yes/y and false/f/0/no/n (any case, blanks around trimmed);
    anything else is null, so staging quarantines the row as unparseable_value: a tab or NUL
    byte around or inside, a Unicode look-alike ('ｔｒｕｅ', Cyrillic 'уes'), 'on'/'off'. -#}
{% macro parse_boolean(column) -%}
    {{ return(adapter.dispatch('parse_boolean', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro default__parse_boolean(column) -%}
    {{ exceptions.raise_compiler_error(
        "parse_boolean has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__parse_boolean to macros/staging/parse_boolean.sql.") }}
{%- endmacro %}

{% macro duckdb__parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}

{#- Spark: trimmed as DuckDB trims (clean_text; empty text, null, matches neither list). Java's
    lower differs from DuckDB's only where no word here is concerned ('İ', final 'Σ'). -#}
{% macro spark__parse_boolean(column) -%}
    case
        when lower({{ clean_text(column) }}) in ('true', 't', '1', 'yes', 'y') then true
        when lower({{ clean_text(column) }}) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}
