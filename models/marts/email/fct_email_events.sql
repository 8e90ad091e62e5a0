{#- One row per accepted email event. -#}
with

email_events as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from {{ ref('stg_email__email_events') }}
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as occurred_month
    from email_events
)

select * from final
