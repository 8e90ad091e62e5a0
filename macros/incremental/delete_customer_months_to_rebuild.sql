{#- Pre-hook of int_customer_months on an incremental run: delete the rows the run builds
    again. Every row of a customer whose completed orders changed: their per-month count,
    net revenue (to the cent) or latest order date in int_orders_sequenced now differ from the
    months the model holds (both ways: new, changed and vanished months, so a retracted order
    counts, and a customer without completed orders any more loses every row); and every row
    from the earlier of the previous reference month (the model's) and the new one (the
    period end and activity of the reference month change with the reference date, months
    appear or, when it moves back, vanish). The rows kept are exactly those a full build
    gives again. -#}
{% macro delete_customer_months_to_rebuild() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    delete from {{ this }}
    where
        month >= (
            select
                least(
                    coalesce(
                        (select max(month) from {{ this }} where is_reference_month),
                        cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
                    ),
                    cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
                )
            from {{ ref('stg_shop__reference_date') }} as reference_dates
        )
        or customer_id in (
            with

            months_now as (
                select
                    customer_id,
                    order_month as month,
                    count(*) as completed_orders,
                    cast(sum(net_revenue) as decimal(18, 2)) as net_revenue,
                    max(order_date) as last_order_date
                from {{ ref('int_orders_sequenced') }}
                where is_completed
                group by customer_id, order_month
            ),

            months_held as (
                select
                    customer_id,
                    month,
                    completed_orders,
                    net_revenue,
                    last_order_date_to_period_end as last_order_date
                from {{ this }}
                where completed_orders > 0
            ),

            differing as (
                (select * from months_now except select * from months_held)
                union all
                (select * from months_held except select * from months_now)
            )

            select customer_id from differing
        )
{%- endmacro %}
