{#- Reorder reminders: contactable customers whose next order is due or overdue
    (dim_customers.is_replenishment_due; docs/lifecycle.md#replenishment). -#}
with

members as (
    select
        customer_key,
        replenishment_status,
        expected_next_order_date,
        days_until_reorder_due
    from {{ ref('dim_customers') }}
    where is_replenishment_due
),

final as (
    {{ contactable_audience('members', ['replenishment_status', 'expected_next_order_date', 'days_until_reorder_due']) }}
)

select * from final
