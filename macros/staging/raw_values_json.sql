{#- The raw text of a row as one JSON object (column name -> raw text), for the quarantine. -#}
{% macro raw_values_json(columns) -%}
    {{ return(adapter.dispatch('raw_values_json', 'customer_analytics')(columns)) }}
{%- endmacro %}

{% macro default__raw_values_json(columns) -%}
    to_json(named_struct(
    {%- for column in columns %}
        '{{ column }}', {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    ))
{%- endmacro %}

{% macro duckdb__raw_values_json(columns) -%}
    cast(json_object(
    {%- for column in columns %}
        '{{ column }}', {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
    ) as {{ dbt.type_string() }})
{%- endmacro %}
