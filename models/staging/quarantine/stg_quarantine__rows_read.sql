{#- One row per raw table: how many rows its raw model read from the file, counted on the raw
    table itself (not on the base model, which collapses exact duplicates), so that the row
    balance of rpt_data_quality (read = accepted + quarantined + collapsed) is a real check. -#}
{%- set raw_tables = [
    ('crm', 'customers'),
    ('shop', 'orders'),
    ('web_analytics', 'sessions'),
    ('nps', 'survey_responses'),
    ('email', 'email_events'),
] -%}

with

{% for source_name, table_name in raw_tables -%}
read_{{ table_name }} as (
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        count(*) as rows_read
    from {{ ref('raw_' ~ table_name) }}
),

{% endfor -%}

final as (
    {% for source_name, table_name in raw_tables -%}
    select
        source_table,
        rows_read
    from read_{{ table_name }}
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
)

select * from final
