{#- One row per customer with at least one accepted order: order counts, revenue, timing.
    First/last order and the averages use completed orders only. -#}
with

orders as (
    select
        customer_id,
        order_date,
        is_completed,
        status,
        gross_revenue,
        net_revenue
    from {{ ref('int_orders_sequenced') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

aggregated as (
    select
        customer_id,
        min(case when is_completed then order_date end) as first_order_date,
        max(case when is_completed then order_date end) as last_order_date,
        count(*) as orders,
        count(case when status = 'completed' then 1 end) as completed_orders,
        count(case when status = 'returned' then 1 end) as returned_orders,
        count(case when status = 'cancelled' then 1 end) as cancelled_orders,
        cast(sum(gross_revenue) as decimal(18, 2)) as gross_lifetime_revenue,
        cast(sum(net_revenue) as decimal(18, 2)) as net_lifetime_revenue
    from orders
    group by customer_id
),

final as (
    select
        aggregated.customer_id,
        aggregated.first_order_date,
        aggregated.last_order_date,
        aggregated.orders,
        aggregated.completed_orders,
        aggregated.returned_orders,
        aggregated.cancelled_orders,
        case
            when aggregated.completed_orders + aggregated.returned_orders > 0
                then aggregated.returned_orders * 1.0
                / (aggregated.completed_orders + aggregated.returned_orders)
        end as return_rate,
        aggregated.gross_lifetime_revenue,
        aggregated.net_lifetime_revenue,
        case
            when aggregated.completed_orders > 0
                then aggregated.net_lifetime_revenue * 1.0 / aggregated.completed_orders
        end as average_order_value,
        case
            when aggregated.completed_orders > 1
                then {{ dbt.datediff('aggregated.first_order_date', 'aggregated.last_order_date', 'day') }}
                * 1.0 / (aggregated.completed_orders - 1)
        end as average_days_between_orders,
        {{ dbt.datediff('aggregated.last_order_date', 'reference_dates.reference_date', 'day') }}
            as days_since_last_order
    from aggregated
    cross join reference_dates
)

select * from final
