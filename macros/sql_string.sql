{#- A SQL string literal for a value from config or vars: single quotes doubled, so a path
    or a var can never end the literal and inject SQL. On Spark, whose string literals read
    backslash escapes ('\n', '\d'), backslashes are doubled too, so that the literal holds the
    value as given (a Windows path, a regular expression). -#}
{% macro sql_string(value) -%}
    {{ return(adapter.dispatch('sql_string', 'customer_analytics')(value)) }}
{%- endmacro %}

{% macro default__sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}

{% macro spark__sql_string(value) -%}
    '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
{%- endmacro %}
