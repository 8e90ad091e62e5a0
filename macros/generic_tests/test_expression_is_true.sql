{#- Generic test: every row satisfies a boolean SQL expression. Fails with the rows that
    do not (null counts as a failure). Use for invariants such as balances and ranges. -#}
{% test expression_is_true(model, expression, column_name=none) -%}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{%- endtest %}
