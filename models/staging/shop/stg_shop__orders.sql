{#- One row per accepted order, amounts in the order currency and in EUR. -#}
with

base_orders as (
    select * from {{ ref('base_shop__orders') }}
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        sales_channel,
        currency,
        gross_amount,
        discount_amount,
        shipping_amount,
        gross_amount_eur,
        discount_amount_eur,
        shipping_amount_eur,
        item_count
    from base_orders
    where rejection_reason is null
)

select * from final
