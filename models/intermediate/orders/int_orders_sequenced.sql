{#- One row per accepted order, valued and sequenced per customer. The one place where an
    order's revenue is defined:
    - net_revenue = gross − discount (EUR) for completed orders, 0 for returned and cancelled;
    - gross_revenue = gross (EUR) for completed and returned orders, 0 for cancelled.
    Dates and months are UTC. -#}
with

orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        sales_channel,
        currency,
        gross_amount_eur,
        discount_amount_eur,
        shipping_amount_eur,
        item_count
    from {{ ref('stg_shop__orders') }}
),

valued as (
    select
        *,
        cast(ordered_at as date) as order_date,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month,
        status = 'completed' as is_completed,
        case
            when status = 'completed' then gross_amount_eur - discount_amount_eur
            else cast(0 as decimal(18, 2))
        end as net_revenue,
        case
            when status in ('completed', 'returned') then gross_amount_eur
            else cast(0 as decimal(18, 2))
        end as gross_revenue
    from orders
),

sequenced as (
    select
        *,
        row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as order_number,
        row_number() over (
            partition by customer_id, is_completed order by ordered_at, order_id
        ) as sequence_within_status_group,
        lag(order_date) over (
            partition by customer_id, is_completed order by ordered_at, order_id
        ) as previous_same_group_order_date
    from valued
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        order_month,
        status,
        is_completed,
        sales_channel,
        currency,
        gross_amount_eur,
        discount_amount_eur,
        shipping_amount_eur,
        item_count,
        gross_revenue,
        net_revenue,
        order_number,
        case when is_completed then sequence_within_status_group end as completed_order_number,
        coalesce(is_completed and sequence_within_status_group = 1, false) as is_first_completed_order,
        case
            when is_completed then previous_same_group_order_date
        end as previous_completed_order_date,
        case
            when is_completed and previous_same_group_order_date is not null
                then {{ dbt.datediff('previous_same_group_order_date', 'order_date', 'day') }}
        end as days_since_previous_completed_order
    from sequenced
)

select * from final
