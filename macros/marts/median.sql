{#- The median of a numeric expression (an aggregate): the 50th percentile, interpolated
    between the two middle values when their count is even. -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'customer_analytics')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}
