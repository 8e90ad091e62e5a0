{#- Generic test: the column holds null or one of the documented reason codes. -#}
{% test is_rejection_reason(model, column_name) -%}
    select {{ column_name }}
    from {{ model }}
    where
        {{ column_name }} is not null
        and {{ column_name }} not in (
            {%- for reason in rejection_reasons() -%}
                '{{ reason }}'{{ ', ' if not loop.last }}
            {%- endfor -%}
        )
{%- endtest %}
