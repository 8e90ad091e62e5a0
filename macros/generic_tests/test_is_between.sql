{#- Generic test: the column's non-null values lie in [min_value, max_value]. -#}
{% test is_between(model, column_name, min_value, max_value) -%}
    select {{ column_name }}
    from {{ model }}
    where {{ column_name }} < {{ min_value }} or {{ column_name }} > {{ max_value }}
{%- endtest %}
