{#- Collapse exact duplicate rows of a relation: one row per distinct row, with
    source_row_count = how many identical copies the raw data held. Grouping on every column
    keeps the result deterministic without any ordering. -#}
{% macro collapse_exact_duplicates(relation_cte, columns) -%}
    select
    {%- for column in columns %}
        {{ column }},
    {%- endfor %}
        count(*) as source_row_count
    from {{ relation_cte }}
    group by
    {%- for column in columns %}
        {{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
