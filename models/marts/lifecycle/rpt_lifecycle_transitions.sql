{#- Lifecycle flows month over month (the matrix a CRM team plans win-back from). One row per
    (month, from_stage, to_stage) that occurs: the customers whose stage at the previous
    month's end was from_stage and at this month's end is to_stage, and their net revenue in
    the month (the revenue of the flow). from_stage is 'signup' in a customer's first month.

    Incremental by month, on rpt_customer_lifecycle's change feed (docs/incremental.md,
    "Change feeds"): the lifecycle rebuilds every customer's rows from one month on, and a
    run rebuilds the flows of the months it rebuilt since this model's last run (delete+insert
    on month), reading the month before them for each customer's previous stage; months gone
    from the lifecycle (the reference date moved back) are deleted. -#}
{{
    config(
        materialized="incremental",
        unique_key="month",
        post_hook=[
            "{{ delete_rows_no_longer_in('month', '(select distinct month from ' ~ ref('rpt_customer_lifecycle') ~ ')') }}",
            "{{ record_model_change_read() }}",
        ],
        meta={"change_feed": {"from": "rpt_customer_lifecycle", "key": "month"}},
    )
}}
{#- the months the lifecycle rebuilt since the last run (a query), or none: every month -#}
{%- set rebuilt_months = model_change_feed_keys() %}

with

{% if rebuilt_months is not none -%}
first_rebuilt_months as (
    select min(cast(key_value as date)) as first_month from ({{ rebuilt_months }}) as rebuilt
),

{% endif -%}
lifecycle as (
    select
        customer_key,
        month,
        is_incomplete_month,
        lifecycle_stage,
        net_revenue
    from {{ ref('rpt_customer_lifecycle') }}
    {%- if rebuilt_months is not none %}
    where month >= (
        select {{ dbt.dateadd('month', -1, 'first_rebuilt_months.first_month') }}
        from first_rebuilt_months
    )
    {%- endif %}
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
    {%- if rebuilt_months is not none %}
    where month >= (select first_rebuilt_months.first_month from first_rebuilt_months)
    {%- endif %}
    group by month, is_incomplete_month, from_stage, to_stage
)

select * from final
