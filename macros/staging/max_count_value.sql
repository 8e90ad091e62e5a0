{#- The largest value a count or duration column accepts (item_count, pageviews,
    duration_seconds): 2,147,483,647, the 32-bit INTEGER maximum (68 years in seconds). A
    larger whole number is quarantined as out_of_range, so that sums over any realistic number
    of rows (e.g. pageviews per customer and month, summed as BIGINT) cannot overflow. -#}
{% macro max_count_value() -%}
    2147483647
{%- endmacro %}
