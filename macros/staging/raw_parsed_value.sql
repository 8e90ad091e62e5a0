{#- The parse expression of one raw column, from its declaration (raw_contract): cleaned text
    (clean_text) for a key or text, lower- or upper-cased when the declaration says so (an enum
    always is), else parsed by its type's strict parser: parse_timestamp, parse_date,
    parse_boolean, parse_amount, parse_integer (integer and count). Null when the text is empty
    or does not parse; raw_row_checks tells the two apart. fmt is raw_format('<table>'). -#}
{% macro raw_parsed_value(contract, column_name, fmt) -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set column = raw_contract_column(contract, column_name) -%}
    {%- set text = clean_text(column.name) -%}
    {%- if column.type == 'timestamp' -%}
        {{ return(parse_timestamp(text, fmt)) }}
    {%- elif column.type == 'date' -%}
        {{ return(parse_date(text, fmt)) }}
    {%- elif column.type == 'boolean' -%}
        {{ return(parse_boolean(column.name)) }}
    {%- elif column.type == 'amount' -%}
        {{ return(parse_amount(text, fmt)) }}
    {%- elif column.type in ['integer', 'count'] -%}
        {{ return(parse_integer(text)) }}
    {%- elif column.case -%}
        {{ return(column.case ~ '(' ~ text ~ ')') }}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}
