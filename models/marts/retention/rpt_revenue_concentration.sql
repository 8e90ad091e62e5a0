{#- Revenue concentration (the 80/20 check). One row per (period, top_percent): the share of
    net revenue brought by the top 1, 5, 10, 20 and 50 % of customers, ranked by their net
    revenue in the period; period 'all time' and each calendar year of completed orders.
    Customers counted: those with positive net revenue in the period. The top p % are the
    ceil(p / 100 × customers) customers with the highest net revenue (ties broken by
    customer_id). -#}
with

completed_orders as (
    select
        customer_id,
        order_date,
        net_revenue
    from {{ ref('int_orders_sequenced') }}
    where is_completed
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

top_percents as (
    select 1 as top_percent
    union all
    select 5 as top_percent
    union all
    select 10 as top_percent
    union all
    select 20 as top_percent
    union all
    select 50 as top_percent
),

customer_periods as (
    select
        'all time' as period,
        min(order_date) as first_order_date,
        customer_id,
        sum(net_revenue) as net_revenue
    from completed_orders
    group by customer_id
    union all
    select
        cast(extract(year from order_date) as {{ dbt.type_string() }}) as period,
        min(order_date) as first_order_date,
        customer_id,
        sum(net_revenue) as net_revenue
    from completed_orders
    group by cast(extract(year from order_date) as {{ dbt.type_string() }}), customer_id
),

ranked as (
    select
        period,
        customer_id,
        net_revenue,
        row_number() over (
            partition by period order by net_revenue desc, customer_id asc
        ) as revenue_rank,
        count(*) over (partition by period) as customers,
        sum(net_revenue) over (partition by period) as period_net_revenue
    from customer_periods
    where net_revenue > 0
),

periods as (
    select
        period,
        min(first_order_date) as first_order_date
    from customer_periods
    group by period
),

top_customers as (
    select
        ranked.period,
        top_percents.top_percent,
        max(ranked.customers) as customers,
        count(*) as top_customers,
        cast(sum(ranked.net_revenue) as decimal(18, 2)) as top_net_revenue,
        cast(max(ranked.period_net_revenue) as decimal(18, 2)) as period_net_revenue
    from ranked
    cross join top_percents
    where ranked.revenue_rank <= ceil(ranked.customers * top_percents.top_percent / 100.0)
    group by ranked.period, top_percents.top_percent
),

final as (
    select
        top_customers.period,
        case
            when top_customers.period = 'all time' then periods.first_order_date
            else cast({{ dbt.date_trunc('year', 'periods.first_order_date') }} as date)
        end as period_start,
        case
            when top_customers.period = 'all time' then reference_dates.reference_date
            else least(
                cast({{ dbt.last_day('periods.first_order_date', 'year') }} as date),
                reference_dates.reference_date
            )
        end as period_end,
        top_customers.period != 'all time'
        and reference_dates.reference_date
        < cast({{ dbt.last_day('periods.first_order_date', 'year') }} as date) as is_incomplete_year,
        top_customers.top_percent,
        top_customers.customers,
        top_customers.top_customers,
        top_customers.top_net_revenue,
        top_customers.period_net_revenue,
        cast(top_customers.top_net_revenue as {{ type_double() }}) / top_customers.period_net_revenue as top_revenue_share
    from top_customers
    inner join periods on top_customers.period = periods.period
    cross join reference_dates
)

select * from final
