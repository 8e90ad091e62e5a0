{#- The hint that a CTE is inlined where it is read rather than materialised once
    (a CTE written `name as` the macro `(...)`): DuckDB's `not materialized`; nothing on engines
    without the hint (Spark inlines CTEs anyway). An optimisation only: the rows are the same. -#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'customer_analytics')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}
