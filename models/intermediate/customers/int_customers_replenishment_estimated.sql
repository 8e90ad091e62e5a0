{#- One row per customer with at least one completed order: when they are expected to order
    again. The expected interval is the customer's own median number of days between
    consecutive completed orders; a one-time buyer has none, so it is the population's median
    days from a first to a second completed order (the step a one-time buyer has yet to take).
    Expected next order date = last completed order date + the expected interval (rounded to
    whole days); days_until_due < 0 means overdue. -#}
with

completed_orders as (
    select
        customer_id,
        completed_order_number,
        days_since_previous_completed_order
    from {{ ref('int_orders_sequenced') }}
    where is_completed
),

customer_orders as (
    select
        customer_id,
        completed_orders,
        last_order_date,
        days_since_last_order
    from {{ ref('int_customer_orders_aggregated') }}
    where completed_orders > 0
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

own_intervals as (
    select
        customer_id,
        {{ median('days_since_previous_completed_order') }} as own_median_interval_days
    from completed_orders
    where days_since_previous_completed_order is not null
    group by customer_id
),

population_intervals as (
    select
        {{ median('days_since_previous_completed_order') }} as population_median_interval_days
    from completed_orders
    where completed_order_number = 2
),

intervals as (
    select
        customer_orders.customer_id,
        customer_orders.last_order_date,
        customer_orders.days_since_last_order,
        own_intervals.own_median_interval_days,
        population_intervals.population_median_interval_days,
        coalesce(
            own_intervals.own_median_interval_days,
            population_intervals.population_median_interval_days
        ) as expected_interval_days,
        case
            when own_intervals.own_median_interval_days is not null then 'own'
            when population_intervals.population_median_interval_days is not null then 'population'
            else 'none'
        end as interval_source
    from customer_orders
    cross join population_intervals
    left join own_intervals on customer_orders.customer_id = own_intervals.customer_id
),

dated as (
    select
        intervals.*,
        cast(
            {{ dbt.dateadd('day', 'cast(round(intervals.expected_interval_days) as integer)', 'intervals.last_order_date') }}
            as date
        ) as expected_next_order_date,
        reference_dates.reference_date
    from intervals
    cross join reference_dates
),

final as (
    select
        customer_id,
        own_median_interval_days,
        population_median_interval_days,
        expected_interval_days,
        interval_source,
        expected_next_order_date,
        cast({{ dbt.datediff('reference_date', 'expected_next_order_date', 'day') }} as {{ dbt.type_bigint() }}) as days_until_due,
        case
            when days_since_last_order >= {{ setting('churn_window_days') }} then 'churned'
            when expected_next_order_date is null then 'unknown'
            when
                {{ dbt.datediff('reference_date', 'expected_next_order_date', 'day') }}
                > {{ setting('replenishment_due_window_days') }}
                then 'upcoming'
            when
                {{ dbt.datediff('reference_date', 'expected_next_order_date', 'day') }}
                >= -{{ setting('replenishment_due_window_days') }}
                then 'due'
            else 'overdue'
        end as replenishment_status
    from dated
)

select * from final
