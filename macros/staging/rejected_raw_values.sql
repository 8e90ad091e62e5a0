{#- The raw text of a row that validation_outcome rejects (raw_values_json of its raw_row
    struct), null for an accepted row: one whose row-level rejection_reason is null and whose
    cross-row checks (the same list as validation_outcome's) all fail. Accepted rows keep their
    values in the typed columns; building the JSON text for every row took a third of a large
    base model's time. -#}
{% macro rejected_raw_values(cross_row_checks, row_column) -%}
    case
        when
            rejection_reason is not null
        {%- for check in cross_row_checks %}
            or ({{ check[0] }})
        {%- endfor %}
            then {{ raw_values_json(row_column) }}
    end
{%- endmacro %}
