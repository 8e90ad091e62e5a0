{#- The raw contract types whose text is parsed into another type (and so can fail to parse:
    unparseable_value), rather than kept as cleaned text. -#}
{% macro raw_parsed_types() -%}
    {{ return(['timestamp', 'date', 'boolean', 'amount', 'integer', 'count']) }}
{%- endmacro %}
