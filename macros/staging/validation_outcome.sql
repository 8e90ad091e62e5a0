{#- The final verdict on a raw row: the row-level reason if any, else the first cross-row
    reason (given as [condition, reason, column]). Emits rejection_reason, rejection_column. -#}
{% macro validation_outcome(cross_row_checks) -%}
    case
        when rejection_reason is not null then rejection_reason
    {%- for check in cross_row_checks %}
        when {{ check[0] }} then '{{ check[1] }}'
    {%- endfor %}
    end as rejection_reason,
    case
        when rejection_reason is not null then rejection_column
    {%- for check in cross_row_checks %}
        when {{ check[0] }} then '{{ check[2] }}'
    {%- endfor %}
    end as rejection_column
{%- endmacro %}
