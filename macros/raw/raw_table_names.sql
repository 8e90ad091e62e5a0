{#- The five raw tables of the contract, in dependency order (customers first). -#}
{% macro raw_table_names() -%}
    {{ return(['customers', 'orders', 'sessions', 'survey_responses', 'email_events']) }}
{%- endmacro %}
