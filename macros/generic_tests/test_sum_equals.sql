{#- Generic test: the column's total equals another model's column total (e.g. no fan-out:
    the sum of per-customer revenue equals the sum of order revenue). -#}
{% test sum_equals(model, column_name, compare_model, compare_column) -%}
    with

    this_total as (
        select coalesce(sum({{ column_name }}), 0) as total from {{ model }}
    ),

    other_total as (
        select coalesce(sum({{ compare_column }}), 0) as total from {{ compare_model }}
    )

    select
        this_total.total as model_total,
        other_total.total as compare_total
    from this_total
    cross join other_total
    where this_total.total != other_total.total
{%- endtest %}
