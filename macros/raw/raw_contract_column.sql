{#- One column of a raw contract (raw_contract) by name; a compiler error naming the contract's
    YAML file when the column is not declared there. -#}
{% macro raw_contract_column(contract, column_name) -%}
    {%- for column in contract.columns if column.name == column_name -%}
        {{ return(column) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(
        "'" ~ column_name ~ "' is not a column of the raw data contract in " ~ contract.yaml
        ~ "; its columns are " ~ contract.names | join(', ') ~ ".") }}
{%- endmacro %}
