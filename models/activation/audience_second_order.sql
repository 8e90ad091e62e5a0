{#- Second-order nudges: contactable customers with exactly one completed order, placed within
    var lifecycle_new_window_days days of the reference date (lifecycle stage new). -#}
with

members as (
    select
        customers.customer_key,
        customers.first_order_date,
        cast({{ dbt.datediff('customers.first_order_date', 'reference_dates.reference_date', 'day') }} as {{ dbt.type_bigint() }})
            as days_since_first_order
    from {{ ref('dim_customers') }} as customers
    cross join {{ ref('stg_shop__reference_date') }} as reference_dates
    where
        customers.completed_orders = 1
        and customers.first_order_date
        > {{ dbt.dateadd('day', -setting('lifecycle_new_window_days'), 'reference_dates.reference_date') }}
),

final as (
    {{ contactable_audience('members', ['first_order_date', 'days_since_first_order']) }}
)

select * from final
