{#- The raw columns of a row as one struct (see raw_values_json), carried through a base model
    so that the JSON text is built only for the rows finally rejected. -#}
{% macro raw_row(columns) -%}
    {{ return(adapter.dispatch('raw_row', 'customer_analytics')(columns)) }}
{%- endmacro %}

{% macro default__raw_row(columns) -%}
    named_struct(
    {%- for column in columns %}
        '{{ column }}', {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    )
{%- endmacro %}

{% macro duckdb__raw_row(columns) -%}
    struct_pack({{ columns | join(', ') }})
{%- endmacro %}

{#- Spark's named_struct is the default's. -#}
{% macro spark__raw_row(columns) -%}
    {{ return(default__raw_row(columns)) }}
{%- endmacro %}
