{#- The retention triangle. One row per (cohort month, months since first order) for every
    offset from 0 through the reference month, zero-activity cells included. The cohort month
    is the month of a customer's first completed order, so month 0 is the acquisition month
    and its retention is 1. Active customers = cohort customers with a completed order in that
    calendar month. The cell in the reference month is flagged incomplete when the reference
    date is not that month's last day. -#}
with

customer_months as (
    select
        cohort_month,
        month,
        months_since_first_order,
        completed_orders,
        net_revenue,
        is_purchasing
    from {{ ref('int_customer_months') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

cells as (
    select
        cohort_month,
        months_since_first_order,
        month as calendar_month,
        count(*) as cohort_size,
        count(case when is_purchasing then 1 end) as active_customers,
        cast(sum(completed_orders) as {{ dbt.type_bigint() }}) as orders,
        cast(sum(net_revenue) as decimal(18, 2)) as net_revenue
    from customer_months
    group by cohort_month, months_since_first_order, month
),

final as (
    select
        cells.cohort_month,
        cells.months_since_first_order,
        cells.calendar_month,
        cells.cohort_size,
        cells.active_customers,
        cast(cells.active_customers as {{ type_double() }}) / cells.cohort_size as retention_rate,
        cells.orders,
        cells.net_revenue,
        cast(sum(cells.net_revenue) over (
            partition by cells.cohort_month
            order by cells.months_since_first_order
            rows between unbounded preceding and current row
        ) as {{ type_double() }}) / cells.cohort_size as cumulative_net_revenue_per_customer,
        {{ is_incomplete_month('cells.calendar_month', 'reference_dates.reference_date') }} as is_incomplete_month
    from cells
    cross join reference_dates
)

select * from final
