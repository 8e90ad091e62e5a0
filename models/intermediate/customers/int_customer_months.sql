{#- One row per (customer, month) from the month of the customer's first completed order
    through the reference month, months without orders included: completed orders and net
    revenue in the month, the last completed order date up to the period end, and whether
    the customer is active then (last completed order fewer than var churn_window_days days
    before the period end). The period end is the month's last day, or the reference date in
    the reference month (flagged incomplete). was_active_at_previous_period_end is false in
    the cohort month; has_churned: active at the previous period end but not at this one.

    Incremental (docs/incremental.md, "Incremental aggregates"): a run rebuilds the rows of the
    customers whose completed orders changed (any month's count, net revenue or latest date)
    and every customer's rows from the earlier of the previous and the new reference month on;
    the pre-hook deletes exactly those rows first (delete_customer_months_to_rebuild), and the
    rows kept are the ones a full build would give again. A kept customer's last row before
    the rebuilt months is read back as the seed of the running values (latest order date,
    activity) and is not written again. -#}
{{
    config(
        materialized="incremental",
        incremental_strategy=incremental_strategy_for("append"),
        pre_hook="{{ delete_customer_months_to_rebuild() }}",
        meta={"data_test_scope": {"key": "cast(customer_id as varchar) || '/' || cast(month as varchar)"}},
    )
}}
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

-- The last row kept of each customer (after the pre-hook): the seed of the running values
-- (none on a full build).
seeds as (
    {%- if is_incremental() %}
    select
        kept.customer_id,
        kept.month as seed_month,
        kept.last_order_date_to_period_end as seed_last_order_date
    from {{ this }} as kept
    inner join (
        select
            customer_id,
            max(month) as last_month
        from {{ this }}
        group by customer_id
    ) as kept_months
        on kept.customer_id = kept_months.customer_id and kept.month = kept_months.last_month
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as customer_id,
        cast(null as date) as seed_month,
        cast(null as date) as seed_last_order_date
    where 1 = 0
    {%- endif %}
),

customer_month_grid as (
    select
        cohorts.customer_id,
        cohorts.cohort_month,
        months.month,
        seeds.seed_month,
        case when months.month = seeds.seed_month then seeds.seed_last_order_date end
            as seed_last_order_date
    from cohorts
    left join seeds on cohorts.customer_id = seeds.customer_id
    inner join months on coalesce(seeds.seed_month, cohorts.cohort_month) <= months.month
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
        cast(
            {{ month_diff('customer_month_grid.cohort_month', 'customer_month_grid.month') }}
            as {{ dbt.type_bigint() }}
        ) as months_since_first_order,
        coalesce(monthly_orders.completed_orders, 0) as completed_orders,
        coalesce(monthly_orders.net_revenue, cast(0 as decimal(18, 2))) as net_revenue,
        customer_month_grid.seed_month,
        max(
            coalesce(
                customer_month_grid.seed_last_order_date, monthly_orders.last_order_date_in_month
            )
        ) over (
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
        filled.seed_month,
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
        customer_id,
        cohort_month,
        month,
        months_since_first_order,
        completed_orders,
        net_revenue,
        is_purchasing,
        last_order_date_to_period_end,
        period_end,
        is_reference_month,
        is_active,
        was_active_at_previous_period_end,
        was_active_at_previous_period_end and not is_active as has_churned
    from with_previous_activity
    -- a seed row is kept as it is
    where seed_month is null or month > seed_month
)

select * from with_churn
