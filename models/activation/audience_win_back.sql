{#- Win-back: contactable customers at risk and of high value. At risk: RFM segment At Risk or
    Cannot Lose Them, or lifecycle stage lapsing at the latest month end. High value: predicted
    12-month CLV in the top var audience_high_value_share of the customers with a prediction
    when the CLV step fitted this build, else net lifetime revenue in that top share of the
    customers with a completed order (value_basis says which). -#}
{%- set top_share = setting('audience_high_value_share') -%}
with

customers as (
    select
        customer_key,
        rfm_segment,
        completed_orders,
        net_lifetime_revenue
    from {{ ref('dim_customers') }}
),

-- The lifecycle is read twice, never through one CTE: DuckDB materialised a CTE read twice, every
-- customer-month of it (84 M rows at 5 M customers, 41 s per read of this view), where the
-- filter below reads the latest month's rows alone.
latest_stages as (
    select
        lifecycle.customer_key,
        lifecycle.lifecycle_stage
    from {{ ref('rpt_customer_lifecycle') }} as lifecycle
    where lifecycle.month = (
        select max(months.month) as latest_month from {{ ref('rpt_customer_lifecycle') }} as months
    )
),

predictions as (
    select
        customer_key,
        clv_12_months
    from {{ ref('customer_clv_predictions') }}
),

fit_statuses as (
    select coalesce(max(case when fit_status like 'fitted%' then 1 else 0 end), 0) = 1 as is_fitted
    from {{ ref('clv_fit_status') }}
),

valued as (
    select
        customers.customer_key,
        customers.rfm_segment,
        latest_stages.lifecycle_stage,
        customers.net_lifetime_revenue,
        predictions.clv_12_months as predicted_clv_12_months,
        case when fit_statuses.is_fitted then 'predicted CLV' else 'lifetime revenue' end
            as value_basis,
        case
            when fit_statuses.is_fitted and predictions.clv_12_months is not null
                then percent_rank() over (
                    partition by predictions.clv_12_months is not null
                    order by predictions.clv_12_months
                )
            when not fit_statuses.is_fitted and customers.completed_orders > 0
                then percent_rank() over (
                    partition by customers.completed_orders > 0
                    order by customers.net_lifetime_revenue
                )
        end as value_percentile
    from customers
    cross join fit_statuses
    left join latest_stages on customers.customer_key = latest_stages.customer_key
    left join predictions on customers.customer_key = predictions.customer_key
),

members as (
    select * from valued
    where
        (rfm_segment in ('At Risk', 'Cannot Lose Them') or lifecycle_stage = 'lapsing')
        and value_percentile >= {{ 1 - top_share }}
),

final as (
    {{ contactable_audience('members', ['rfm_segment', 'lifecycle_stage', 'net_lifetime_revenue', 'predicted_clv_12_months', 'value_basis', 'value_percentile']) }}
)

select * from final
