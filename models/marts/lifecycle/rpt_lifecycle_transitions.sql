{#- Lifecycle flows month over month (the matrix a CRM team plans win-back from). One row per
    (month, from_stage, to_stage) that occurs: the customers whose stage at the previous
    month's end was from_stage and at this month's end is to_stage, and their net revenue in
    the month (the revenue of the flow). from_stage is 'signup' in a customer's first month. -#}
with

lifecycle as (
    select
        customer_key,
        month,
        is_incomplete_month,
        lifecycle_stage,
        net_revenue
    from {{ ref('rpt_customer_lifecycle') }}
),

paired as (
    select
        month,
        is_incomplete_month,
        coalesce(
            lag(lifecycle_stage) over (partition by customer_key order by month),
            'signup'
        ) as from_stage,
        lifecycle_stage as to_stage,
        net_revenue
    from lifecycle
),

final as (
    select
        month,
        is_incomplete_month,
        from_stage,
        to_stage,
        count(*) as customers,
        cast(sum(net_revenue) as decimal(18, 2)) as net_revenue
    from paired
    group by month, is_incomplete_month, from_stage, to_stage
)

select * from final
