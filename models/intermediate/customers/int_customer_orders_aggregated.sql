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

spans as (
    select
        *,
        cast({{ dbt.datediff('first_order_date', 'last_order_date', 'day') }} as {{ dbt.type_bigint() }}) as first_to_last_order_days
    from aggregated
),

final as (
    select
        spans.customer_id,
        spans.first_order_date,
        spans.last_order_date,
        spans.orders,
        spans.completed_orders,
        spans.returned_orders,
        spans.cancelled_orders,
        case
            when spans.completed_orders + spans.returned_orders > 0
                then
                    cast(spans.returned_orders as {{ type_double() }})
                    / (spans.completed_orders + spans.returned_orders)
        end as return_rate,
        spans.gross_lifetime_revenue,
        spans.net_lifetime_revenue,
        case
            when spans.completed_orders > 0
                then cast(spans.net_lifetime_revenue as {{ type_double() }}) / spans.completed_orders
        end as average_order_value,
        case
            when spans.completed_orders > 1
                then cast(spans.first_to_last_order_days as {{ type_double() }}) / (spans.completed_orders - 1)
        end as average_days_between_orders,
        cast({{ dbt.datediff('spans.last_order_date', 'reference_dates.reference_date', 'day') }} as {{ dbt.type_bigint() }})
            as days_since_last_order
    from spans
    cross join reference_dates
)

select * from final
