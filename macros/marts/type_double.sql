{#- The double-precision floating-point type (dbt.type_float() is a 4-byte float on DuckDB). -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'customer_analytics')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double
{%- endmacro %}
