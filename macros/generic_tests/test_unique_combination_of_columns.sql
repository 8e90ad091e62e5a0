{#- Generic test: the combination of the given columns is unique in the model. -#}
{% test unique_combination_of_columns(model, combination_of_columns) -%}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as duplicate_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{%- endtest %}
