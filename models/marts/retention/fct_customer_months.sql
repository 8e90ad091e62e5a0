{#- Customer activity at every month end. One row per (customer, month) from the month of the
    customer's first completed order through the reference month: whether the customer is
    active at the period end (the month's last day, or the reference date in the reference
    month), was active at the previous one, and churned in between. The semantic layer's
    active-customer and churn metrics read this table, so that they can be sliced by any
    customer dimension and rolled up to quarters and years. -#}
with

customer_months as (
    select
        customer_id,
        cohort_month,
        month,
        months_since_first_order,
        period_end,
        is_purchasing,
        is_active,
        was_active_at_previous_period_end,
        has_churned
    from {{ ref('int_customer_months') }}
),

-- Activity at each year's start: the previous December's period end, per customer.
year_starts as (
    select
        customer_id,
        cast({{ dbt.dateadd('month', 1, 'month') }} as date) as year_start,
        is_active as was_active_at_year_start
    from customer_months
    where extract(month from month) = 12
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

final as (
    select
        customer_keys.customer_key,
        customer_months.month,
        customer_months.cohort_month,
        customer_months.months_since_first_order,
        customer_months.period_end,
        {{ is_incomplete_month('customer_months.month', 'reference_dates.reference_date') }} as is_incomplete_month,
        customer_months.is_purchasing,
        customer_months.is_active,
        customer_months.was_active_at_previous_period_end,
        customer_months.has_churned,
        coalesce(year_starts.was_active_at_year_start, false) as was_active_at_year_start
    from customer_months
    inner join customer_keys on customer_months.customer_id = customer_keys.customer_id
    left join year_starts
        on
            customer_months.customer_id = year_starts.customer_id
            and cast({{ dbt.date_trunc('year', 'customer_months.month') }} as date)
            = year_starts.year_start
    cross join reference_dates
)

select * from final
