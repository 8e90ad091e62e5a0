{#- One row per accepted order, valued and sequenced per customer. The one place where an
    order's revenue is defined:
    - net_revenue = gross − discount (EUR) for completed orders, 0 for returned and cancelled;
    - gross_revenue = gross (EUR) for completed and returned orders, 0 for cancelled.
    Dates and months are UTC.

    Incremental by customer, on base_shop__orders' change feed (docs/incremental.md,
    "Incremental aggregates"): an order's numbers depend on every other order of its customer,
    so a run sequences again every order of the customers it touches: the customers of the
    orders base_shop__orders wrote since this model's last run (a new order, a late one, one
    judged again), the customer an order held before (an order that moved to another
    customer), and the customers of orders no longer accepted (quarantined by a late
    conflicting copy, gone from the raw data, a customer gone from the CRM export). Their rows
    are replaced (delete+insert on customer_id); the orders no longer accepted are deleted. -#}
{{
    config(
        materialized="incremental",
        unique_key="customer_id",
        post_hook=[
            "{{ delete_rows_no_longer_in('order_id', ref('stg_shop__orders'), one_row_per_key=true) }}",
            "{{ record_model_change_read() }}",
        ],
        meta={"change_feed": {"from": "base_shop__orders", "key": "order_id"}},
    )
}}

with

{%- if is_incremental() %}

customers_to_sequence as (
    select customer_id from {{ ref('stg_shop__orders') }}
    where {{ model_change_feed_filter() }}
    union
    select customer_id from {{ this }}
    where {{ model_change_feed_filter() }}
    union
    select customer_id from {{ this }}
    where order_id not in (
        select accepted.order_id from {{ ref('stg_shop__orders') }} as accepted
        where accepted.order_id is not null
    )
),
{%- endif %}

orders as (
    select
        order_id,
        customer_id,
        ordered_at,
        status,
        sales_channel,
        currency,
        gross_amount_eur,
        discount_amount_eur,
        shipping_amount_eur,
        item_count
    from {{ ref('stg_shop__orders') }}
    {%- if is_incremental() %}
    where customer_id in (select customers_to_sequence.customer_id from customers_to_sequence)
    {%- endif %}
),

valued as (
    select
        *,
        cast(ordered_at as date) as order_date,
        cast({{ dbt.date_trunc('month', 'ordered_at') }} as date) as order_month,
        status = 'completed' as is_completed,
        case
            when status = 'completed' then cast(gross_amount_eur - discount_amount_eur as decimal(18, 2))
            else cast(0 as decimal(18, 2))
        end as net_revenue,
        case
            when status in ('completed', 'returned') then gross_amount_eur
            else cast(0 as decimal(18, 2))
        end as gross_revenue
    from orders
),

sequenced as (
    select
        *,
        cast(row_number() over (
            partition by customer_id order by ordered_at, order_id
        ) as {{ dbt.type_bigint() }}) as order_number,
        cast(row_number() over (
            partition by customer_id, is_completed order by ordered_at, order_id
        ) as {{ dbt.type_bigint() }}) as sequence_within_status_group,
        lag(order_date) over (
            partition by customer_id, is_completed order by ordered_at, order_id
        ) as previous_same_group_order_date
    from valued
),

final as (
    select
        order_id,
        customer_id,
        ordered_at,
        order_date,
        order_month,
        status,
        is_completed,
        sales_channel,
        currency,
        gross_amount_eur,
        discount_amount_eur,
        shipping_amount_eur,
        item_count,
        gross_revenue,
        net_revenue,
        order_number,
        case when is_completed then sequence_within_status_group end as completed_order_number,
        coalesce(is_completed and sequence_within_status_group = 1, false) as is_first_completed_order,
        case
            when is_completed then previous_same_group_order_date
        end as previous_completed_order_date,
        case
            when is_completed and previous_same_group_order_date is not null
                then cast({{ dbt.datediff('previous_same_group_order_date', 'order_date', 'day') }} as {{ dbt.type_bigint() }})
        end as days_since_previous_completed_order
    from sequenced
)

select * from final
