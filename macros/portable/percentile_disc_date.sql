{#- The discrete `fraction` percentile (an existing value, as SQL's percentile_disc) of the
    dates `column`, as an aggregate expression. Spark's percentile_disc takes numbers only:
    there it ranks the dates as day numbers. -#}
{% macro percentile_disc_date(fraction, column) -%}
    {{ return(adapter.dispatch('percentile_disc_date', 'customer_analytics')(fraction, column)) }}
{%- endmacro %}

{% macro default__percentile_disc_date(fraction, column) -%}
    percentile_disc({{ fraction }}) within group (order by {{ column }})
{%- endmacro %}

{% macro spark__percentile_disc_date(fraction, column) -%}
    date_add(date '1970-01-01', cast(percentile_disc({{ fraction }}) within group (
        order by datediff({{ column }}, date '1970-01-01')) as int))
{%- endmacro %}
