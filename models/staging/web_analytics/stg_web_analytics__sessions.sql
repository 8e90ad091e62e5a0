{#- One row per accepted web or app session. -#}
with

base_sessions as (
    select * from {{ ref('base_web_analytics__sessions') }}
),

final as (
    select
        session_id,
        anonymous_id,
        customer_id,
        started_at,
        duration_seconds,
        pageviews,
        traffic_source,
        device,
        landing_page,
        order_id
    from base_sessions
    where rejection_reason is null
)

select * from final
