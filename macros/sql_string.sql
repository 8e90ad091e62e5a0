{#- A SQL string literal for a value from config or vars: single quotes doubled, so a path
    or a var can never end the literal and inject SQL. -#}
{% macro sql_string(value) -%}
    '{{ value | string | replace("'", "''") }}'
{%- endmacro %}
