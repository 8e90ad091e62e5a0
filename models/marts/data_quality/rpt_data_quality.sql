{#- One row per raw table: rows read, accepted, quarantined (in total and by reason) and
    exact duplicates collapsed. rows_read is counted from the raw data itself
    (stg_quarantine__rows_read), so the balance
    rows_read = rows_accepted + rows_quarantined + rows_collapsed_duplicates is a real check. -#}
{%- set reasons = rejection_reasons() -%}
{%- set raw_tables = [
    ('crm', 'customers', 'base_crm__customers', 'stg_crm__customers'),
    ('shop', 'orders', 'base_shop__orders', 'stg_shop__orders'),
    ('web_analytics', 'sessions', 'base_web_analytics__sessions', 'stg_web_analytics__sessions'),
    ('nps', 'survey_responses', 'base_nps__survey_responses', 'stg_nps__survey_responses'),
    ('email', 'email_events', 'base_email__email_events', 'stg_email__email_events'),
] -%}

with

{% for source_name, table_name, base_model, staging_model in raw_tables -%}
accepted_{{ table_name }} as (
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        count(*) as rows_accepted
    from {{ ref(staging_model) }}
),

collapsed_{{ table_name }} as (
    select
        '{{ source_name }}.{{ table_name }}' as source_table,
        cast(coalesce(sum(source_row_count - 1), 0) as {{ dbt.type_bigint() }}) as rows_collapsed_duplicates
    from {{ ref(base_model) }}
),

{% endfor -%}

rows_read as (
    select
        source_table,
        rows_read
    from {{ ref('stg_quarantine__rows_read') }}
),

quarantine as (
    select
        source_table,
        rejection_reason
    from {{ ref('stg_quarantine__rejected_rows') }}
),

quarantined_by_reason as (
    select
        source_table,
        {% for reason in reasons -%}
        cast(sum(case when rejection_reason = '{{ reason }}' then 1 else 0 end) as {{ dbt.type_bigint() }})
            as quarantined_{{ reason }},
        {% endfor -%}
        count(*) as rows_quarantined
    from quarantine
    group by source_table
),

table_counts as (
    {% for source_name, table_name, base_model, staging_model in raw_tables -%}
    select
        rows_read.source_table,
        rows_read.rows_read,
        accepted_{{ table_name }}.rows_accepted,
        collapsed_{{ table_name }}.rows_collapsed_duplicates
    from rows_read
    inner join accepted_{{ table_name }}
        on rows_read.source_table = accepted_{{ table_name }}.source_table
    inner join collapsed_{{ table_name }}
        on rows_read.source_table = collapsed_{{ table_name }}.source_table
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

final as (
    select
        table_counts.source_table,
        table_counts.rows_read,
        table_counts.rows_accepted,
        coalesce(quarantined_by_reason.rows_quarantined, 0) as rows_quarantined,
        {% for reason in reasons -%}
        coalesce(quarantined_by_reason.quarantined_{{ reason }}, 0) as quarantined_{{ reason }},
        {% endfor -%}
        table_counts.rows_collapsed_duplicates
    from table_counts
    left join quarantined_by_reason
        on table_counts.source_table = quarantined_by_reason.source_table
)

select * from final
