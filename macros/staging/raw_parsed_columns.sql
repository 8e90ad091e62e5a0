{#- The select list of a base model's `parsed` CTE, generated from the raw contract: every
    raw column parsed (raw_parsed_value) under its staged name, in contract order, then the
    cleaned text of every column that is parsed by type (timestamp, date, boolean, amount,
    integer, count) as <column>_text, which raw_row_checks reads to tell an empty value
    (missing_value) from one that does not parse (unparseable_value). No trailing comma. -#}
{% macro raw_parsed_columns(contract, fmt) -%}
    {%- set items = [] -%}
    {%- for column in contract.columns -%}
        {%- do items.append(raw_parsed_value(contract, column.name, fmt) ~ ' as ' ~ column.staged_as) -%}
    {%- endfor -%}
    {%- for column in contract.columns if column.type in raw_parsed_types() -%}
        {%- do items.append(clean_text(column.name) ~ ' as ' ~ column.name ~ '_text') -%}
    {%- endfor -%}
    {{ return(items | join(',\n        ')) }}
{%- endmacro %}
