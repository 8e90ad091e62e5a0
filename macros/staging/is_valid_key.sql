{#- A key (customer_id, order_id, session_id, anonymous_id, campaign_id …) is at most 255
    characters and holds no control character (Unicode category Cc: tab, line breaks, NUL,
    DEL, C1 controls). Null keys are judged elsewhere (missing_key / missing_value); for them
    this gives null. Staging quarantines a key that fails as invalid_value. Expects cleaned
    text (clean_text). -#}
{% macro is_valid_key(column) -%}
    {{ return(adapter.dispatch('is_valid_key', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro default__is_valid_key(column) -%}
    {{ exceptions.raise_compiler_error(
        "is_valid_key has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__is_valid_key to macros/staging/is_valid_key.sql.") }}
{%- endmacro %}

{% macro duckdb__is_valid_key(column) -%}
    (length({{ column }}) <= 255 and not regexp_matches({{ column }}, '\p{Cc}'))
{%- endmacro %}

{#- Java's \p{Cc} is the same Unicode category; rlike finds it anywhere, like regexp_matches -#}
{% macro spark__is_valid_key(column) -%}
    (length({{ column }}) <= 255 and not {{ column }} rlike {{ sql_string('\\p{Cc}') }})
{%- endmacro %}
