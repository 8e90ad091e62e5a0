{#- The mean of a numeric expression (an aggregate) as a double, null without values. DuckDB's
    avg gives a double for integers and decimals alike; Spark's avg of a decimal is a decimal
    rounded to four more decimal places, so there it is the exact decimal sum divided by the
    count. -#}
{% macro avg_double(expression) -%}
    {{ return(adapter.dispatch('avg_double', 'customer_analytics')(expression)) }}
{%- endmacro %}

{% macro default__avg_double(expression) -%}
    avg({{ expression }})
{%- endmacro %}

{% macro spark__avg_double(expression) -%}
    cast(sum({{ expression }}) as double) / nullif(count({{ expression }}), 0)
{%- endmacro %}
