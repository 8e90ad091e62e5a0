{#- Referral asks: the contactable customers in the RFM segment Champions (bought recently and
    often, and spend the most). -#}
with

members as (
    select
        customer_key,
        rfm_segment,
        rfm_score,
        completed_orders,
        net_lifetime_revenue
    from {{ ref('dim_customers') }}
    where rfm_segment = 'Champions'
),

final as (
    {{ contactable_audience('members', ['rfm_segment', 'rfm_score', 'completed_orders', 'net_lifetime_revenue']) }}
)

select * from final
