{#- The repeat-purchase ladder. One row per (dimension, dimension_value, order_number) for
    order_number 1 to 10: of the customers with at least n completed orders, how many placed
    an (n+1)th, and the share (P(order n+1 | order n)); overall (dimension 'overall') and by
    acquisition channel. Completed orders only, up to the reference date. -#}
with

customers as (
    select
        acquisition_channel,
        completed_orders
    from {{ ref('dim_customers') }}
    where completed_orders > 0
),

steps as (
    select cast(generated_number as integer) as order_number
    from ({{ dbt.generate_series(10) }}) as series
),

customers_by_orders as (
    select
        'overall' as dimension,
        'all customers' as dimension_value,
        completed_orders,
        count(*) as customers
    from customers
    group by completed_orders
    union all
    select
        'acquisition_channel' as dimension,
        acquisition_channel as dimension_value,
        completed_orders,
        count(*) as customers
    from customers
    group by acquisition_channel, completed_orders
),

segments as (
    select distinct
        dimension,
        dimension_value
    from customers_by_orders
),

ladder as (
    select
        segments.dimension,
        segments.dimension_value,
        steps.order_number,
        cast(coalesce(sum(
            case
                when customers_by_orders.completed_orders >= steps.order_number
                    then customers_by_orders.customers
            end
        ), 0) as {{ dbt.type_bigint() }}) as customers_with_order,
        cast(coalesce(sum(
            case
                when customers_by_orders.completed_orders >= steps.order_number + 1
                    then customers_by_orders.customers
            end
        ), 0) as {{ dbt.type_bigint() }}) as customers_with_next_order
    from segments
    cross join steps
    inner join customers_by_orders
        on
            segments.dimension = customers_by_orders.dimension
            and segments.dimension_value = customers_by_orders.dimension_value
    group by segments.dimension, segments.dimension_value, steps.order_number
),

final as (
    select
        dimension,
        dimension_value,
        order_number,
        customers_with_order,
        customers_with_next_order,
        case
            when customers_with_order > 0
                then cast(customers_with_next_order as {{ type_double() }}) / customers_with_order
        end as next_order_probability
    from ladder
)

select * from final
