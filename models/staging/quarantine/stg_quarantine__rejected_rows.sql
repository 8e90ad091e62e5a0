{#- One row per distinct raw row that staging rejected, from all five raw tables, with the
    reason code, the column it concerns and the raw text of the whole row. Restricted layer:
    raw_values can hold personal data. -#}
{%- set raw_tables = [
    ('crm.customers', 'base_crm__customers', 'customer_id'),
    ('shop.orders', 'base_shop__orders', 'order_id'),
    ('web_analytics.sessions', 'base_web_analytics__sessions', 'session_id'),
    ('nps.survey_responses', 'base_nps__survey_responses', 'response_id'),
    ('email.email_events', 'base_email__email_events', 'event_id'),
] -%}

with

{% for source_table, model, key in raw_tables -%}
{{ model }} as (
    select
        '{{ source_table }}' as source_table,
        {{ key }} as source_key,
        rejection_reason,
        rejection_column,
        source_row_count,
        raw_values,
        _source_file as source_file
    from {{ ref(model) }}
    where rejection_reason is not null
),

{% endfor -%}

unioned as (
    {% for source_table, model, key in raw_tables -%}
    select * from {{ model }}
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

final as (
    select
        {{ dbt.hash("source_table || '|' || raw_values") }} as quarantined_row_id,
        source_table,
        source_key,
        rejection_reason,
        rejection_column,
        source_row_count,
        raw_values,
        source_file
    from unioned
)

select * from final
