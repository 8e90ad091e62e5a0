{#- The size of each replenishment list (the reorder-reminder audiences). One row per
    replenishment_status of dim_customers: the customers in it and those who may be contacted
    (dim_customers.is_contactable); customers without consent are counted,
    never listed. -#}
with

customers as (
    select
        replenishment_status,
        is_replenishment_due,
        is_contactable
    from {{ ref('dim_customers') }}
),

statuses as (
    {% for status in ['due', 'overdue', 'upcoming', 'churned', 'unknown', 'no purchase'] -%}
    select
        '{{ status }}' as replenishment_status,
        {{ loop.index }} as status_order
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

counted as (
    select
        replenishment_status,
        count(*) as customers,
        count(case when is_contactable then 1 end) as contactable_customers
    from customers
    group by replenishment_status
),

final as (
    select
        statuses.replenishment_status,
        statuses.status_order,
        statuses.replenishment_status in ('due', 'overdue') as is_replenishment_due,
        cast(coalesce(counted.customers, 0) as {{ dbt.type_bigint() }}) as customers,
        cast(coalesce(counted.contactable_customers, 0) as {{ dbt.type_bigint() }})
            as contactable_customers
    from statuses
    left join counted on statuses.replenishment_status = counted.replenishment_status
)

select * from final
