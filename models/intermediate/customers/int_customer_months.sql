{#- One row per (customer, month) from the month of the customer's first completed order
    through the reference month, months without orders included: completed orders and net
    revenue in the month, the last completed order date up to the period end, and whether
    the customer is active then (last completed order fewer than var churn_window_days days
    before the period end). The period end is the month's last day, or the reference date in
    the reference month (flagged incomplete). was_active_at_previous_period_end is false in
    the cohort month; has_churned: active at the previous period end but not at this one. -#}
with

completed_orders as (
    select
        customer_id,
        order_date,
        order_month,
        net_revenue
    from {{ ref('int_orders_sequenced') }}
    where is_completed
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

cohorts as (
    select
        customer_id,
        min(order_month) as cohort_month
    from completed_orders
    group by customer_id
),

first_cohort as (
    select
        min(cohorts.cohort_month) as first_month,
        max(reference_dates.reference_date) as reference_date
    from cohorts
    cross join reference_dates
),

months as (
    {{ month_series('first_cohort.first_month', 'first_cohort.reference_date', 'first_cohort') }}
),

customer_month_grid as (
    select
        cohorts.customer_id,
        cohorts.cohort_month,
        months.month
    from cohorts
    inner join months on cohorts.cohort_month <= months.month
),

monthly_orders as (
    select
        customer_id,
        order_month,
        count(*) as completed_orders,
        cast(sum(net_revenue) as decimal(18, 2)) as net_revenue,
        max(order_date) as last_order_date_in_month
    from completed_orders
    group by customer_id, order_month
),

filled as (
    select
        customer_month_grid.customer_id,
        customer_month_grid.cohort_month,
        customer_month_grid.month,
        {{ dbt.datediff('customer_month_grid.cohort_month', 'customer_month_grid.month', 'month') }}
            as months_since_first_order,
        coalesce(monthly_orders.completed_orders, 0) as completed_orders,
        coalesce(monthly_orders.net_revenue, cast(0 as decimal(18, 2))) as net_revenue,
        max(monthly_orders.last_order_date_in_month) over (
            partition by customer_month_grid.customer_id
            order by customer_month_grid.month
            rows between unbounded preceding and current row
        ) as last_order_date_to_period_end
    from customer_month_grid
    left join monthly_orders
        on
            customer_month_grid.customer_id = monthly_orders.customer_id
            and customer_month_grid.month = monthly_orders.order_month
),

final as (
    select
        filled.customer_id,
        filled.cohort_month,
        filled.month,
        filled.months_since_first_order,
        filled.completed_orders,
        filled.net_revenue,
        filled.completed_orders > 0 as is_purchasing,
        filled.last_order_date_to_period_end,
        case
            when filled.month = cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
                then reference_dates.reference_date
            else cast({{ dbt.last_day('filled.month', 'month') }} as date)
        end as period_end,
        filled.month = cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
            as is_reference_month
    from filled
    cross join reference_dates
),

with_activity as (
    select
        *,
        {{ dbt.datediff('last_order_date_to_period_end', 'period_end', 'day') }}
        < {{ setting('churn_window_days') }} as is_active
    from final
),

with_previous_activity as (
    select
        *,
        coalesce(
            lag(is_active) over (partition by customer_id order by month), false
        ) as was_active_at_previous_period_end
    from with_activity
),

with_churn as (
    select
        *,
        was_active_at_previous_period_end and not is_active as has_churned
    from with_previous_activity
)

select * from with_churn
