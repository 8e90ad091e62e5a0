{#-
    Row-level validation: given checks as [condition, reason_code, column] in priority order,
    emits two columns, rejection_reason (the first failing check's reason code, null when the
    row passes) and rejection_column (the raw column it concerns). Reason codes are listed in
    docs/quarantine.md.
-#}
{% macro first_failed_check(checks) -%}
    case
    {%- for check in checks %}
        when {{ check[0] }} then '{{ check[1] }}'
    {%- endfor %}
    end as rejection_reason,
    case
    {%- for check in checks %}
        when {{ check[0] }} then '{{ check[2] }}'
    {%- endfor %}
    end as rejection_column
{%- endmacro %}
