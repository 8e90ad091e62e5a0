{#- One row per email message (customer × campaign): when it was sent, delivered, first
    opened and clicked, bounced, and whether the customer unsubscribed from it. -#}
with

email_events as (
    select
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from {{ ref('stg_email__email_events') }}
),

rolled_up as (
    select
        customer_id,
        campaign_id,
        min(case when event_type = 'sent' then occurred_at end) as sent_at,
        min(case when event_type = 'delivered' then occurred_at end) as delivered_at,
        min(case when event_type = 'opened' then occurred_at end) as first_opened_at,
        min(case when event_type = 'clicked' then occurred_at end) as first_clicked_at,
        min(case when event_type = 'bounced' then occurred_at end) as bounced_at,
        min(case when event_type = 'unsubscribed' then occurred_at end) as unsubscribed_at
    from email_events
    group by customer_id, campaign_id
),

final as (
    select
        {{ dbt.hash("customer_id || '|' || campaign_id") }} as message_id,
        customer_id,
        campaign_id,
        sent_at,
        delivered_at,
        cast({{ dbt.date_trunc('month', 'delivered_at') }} as date) as delivered_month,
        first_opened_at,
        first_clicked_at,
        bounced_at,
        unsubscribed_at,
        delivered_at is not null as is_delivered,
        delivered_at is not null and first_opened_at is not null as is_opened,
        delivered_at is not null and first_clicked_at is not null as is_clicked
    from rolled_up
)

select * from final
