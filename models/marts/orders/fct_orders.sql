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

order_sessions as (
    select
        order_id,
        count(*) as order_sessions
    from {{ ref('int_sessions_stitched') }}
    where order_id is not null
    group by order_id
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
        order_sessions.order_id is not null as has_web_session,
        customers.acquisition_channel,
        customers.country_code,
        customers.is_referred,
        coalesce(customers.loyalty_joined_at <= orders.ordered_at, false)
            as is_loyalty_member_at_order,
        customers.rfm_segment
    from orders
    inner join customer_keys on orders.customer_id = customer_keys.customer_id
    inner join customers on customer_keys.customer_key = customers.customer_key
    left join order_sessions on orders.order_id = order_sessions.order_id
)

select * from final
