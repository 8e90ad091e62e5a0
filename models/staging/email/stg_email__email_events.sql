{#- One row per accepted email event. -#}
with

base_email_events as (
    select * from {{ ref('base_email__email_events') }}
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from base_email_events
    where rejection_reason is null
)

select * from final
