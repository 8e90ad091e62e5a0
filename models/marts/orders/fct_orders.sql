{#- One row per accepted order with its value, its place in the customer's order sequence
    and the customer context a BI user slices by. -#}
with

orders as (
    select * from {{ ref('int_orders_sequenced') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

customers as (
    select
        customer_key,
        acquisition_channel,
        country_code,
        loyalty_joined_at,
        is_referred,
        rfm_segment
    from {{ ref('dim_customers') }}
),

-- the orders a stitched session led to: looked up, not grouped (grouping 3.9 M orders'
-- sessions cost 1.1 s at L)
order_sessions as (
    select order_id
    from {{ ref('int_sessions_stitched') }}
    where order_id is not null
),

final as (
    select
        orders.order_id,
        customer_keys.customer_key,
        orders.ordered_at,
        orders.order_date,
        orders.order_month,
        orders.status,
        orders.is_completed,
        orders.sales_channel,
        orders.currency,
        orders.gross_amount_eur,
        orders.discount_amount_eur,
        orders.shipping_amount_eur,
        orders.item_count,
        orders.gross_revenue,
        orders.net_revenue,
        orders.order_number,
        orders.completed_order_number,
        orders.is_first_completed_order,
        orders.days_since_previous_completed_order,
        orders.order_id in (select order_sessions.order_id from order_sessions) as has_web_session,
        customers.acquisition_channel,
        customers.country_code,
        customers.is_referred,
        coalesce(customers.loyalty_joined_at <= orders.ordered_at, false)
            as is_loyalty_member_at_order,
        customers.rfm_segment
    from orders
    inner join customer_keys on orders.customer_id = customer_keys.customer_id
    inner join customers on customer_keys.customer_key = customers.customer_key
)

select * from final
