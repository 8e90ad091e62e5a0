{#- The raw text of a row as one JSON object (column name -> raw text, in contract order), for
    the quarantine. `row_column` holds the row's raw_row struct. -#}
{% macro raw_values_json(row_column) -%}
    {{ return(adapter.dispatch('raw_values_json', 'customer_analytics')(row_column)) }}
{%- endmacro %}

{% macro default__raw_values_json(row_column) -%}
    to_json({{ row_column }})
{%- endmacro %}

{% macro duckdb__raw_values_json(row_column) -%}
    cast(to_json({{ row_column }}) as {{ dbt.type_string() }})
{%- endmacro %}

{#- Spark's to_json leaves out null fields unless told not to; DuckDB writes them as null.
    Both escape the same characters the same way (", \, control characters as \n or \u001F). -#}
{% macro spark__raw_values_json(row_column) -%}
    to_json({{ row_column }}, map('ignoreNullFields', 'false'))
{%- endmacro %}
