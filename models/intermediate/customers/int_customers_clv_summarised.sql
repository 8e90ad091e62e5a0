{#- The inputs of the CLV models (BG/NBD and Gamma-Gamma; docs/clv.md). One row per customer
    with at least one completed order, in days, as in Fader, Hardie & Lee (2005): purchases
    are counted per purchase day (completed orders on one UTC day are one purchase), so
    - frequency: repeat purchase days (purchase days - 1);
    - recency_days: days from the first to the last purchase day;
    - t_days: days from the first purchase day to the reference date;
    - monetary_value: mean net revenue (EUR) of the repeat purchase days (the first day left
      out, as the Gamma-Gamma model expects); null without one.
    The _calibration columns are the same as of the cut-off (reference date minus var
    clv_holdout_days) for customers whose first purchase is on or before it, and
    holdout_purchases counts their purchase days after it: rpt_clv_holdout compares the model
    fitted on the calibration columns with these. -#}
with

completed_orders as (
    select
        customer_id,
        order_date,
        net_revenue
    from {{ ref('int_orders_sequenced') }}
    where is_completed
),

reference_dates as (
    select
        reference_date,
        cast({{ dbt.dateadd('day', -setting('clv_holdout_days'), 'reference_date') }} as date)
            as cutoff_date
    from {{ ref('stg_shop__reference_date') }}
),

purchase_days as (
    select
        completed_orders.customer_id,
        completed_orders.order_date as purchase_date,
        sum(completed_orders.net_revenue) as net_revenue
    from completed_orders
    cross join reference_dates
    where completed_orders.order_date <= reference_dates.reference_date
    group by completed_orders.customer_id, completed_orders.order_date
),

numbered as (
    select
        *,
        min(purchase_date) over (partition by customer_id) as first_purchase_date
    from purchase_days
),

summarised as (
    select
        numbered.customer_id,
        min(numbered.first_purchase_date) as first_purchase_date,
        count(*) - 1 as frequency,
        {{ dbt.datediff('min(numbered.first_purchase_date)', 'max(numbered.purchase_date)', 'day') }}
            as recency_days,
        {{ dbt.datediff('min(numbered.first_purchase_date)', 'max(reference_dates.reference_date)', 'day') }}
            as t_days,
        {{ avg_double(
            'case when numbered.purchase_date > numbered.first_purchase_date then numbered.net_revenue end'
        ) }} as monetary_value,
        count(
            case when numbered.purchase_date <= reference_dates.cutoff_date then 1 end
        ) - 1 as frequency_calibration,
        {{ dbt.datediff(
            'min(numbered.first_purchase_date)',
            'max(case when numbered.purchase_date <= reference_dates.cutoff_date then numbered.purchase_date end)',
            'day') }} as recency_days_calibration,
        {{ dbt.datediff('min(numbered.first_purchase_date)', 'max(reference_dates.cutoff_date)', 'day') }}
            as t_days_calibration,
        {{ avg_double(
            'case when numbered.purchase_date > numbered.first_purchase_date'
            ~ ' and numbered.purchase_date <= reference_dates.cutoff_date then numbered.net_revenue end'
        ) }} as monetary_value_calibration,
        count(case when numbered.purchase_date > reference_dates.cutoff_date then 1 end)
            as holdout_purchases
    from numbered
    cross join reference_dates
    group by numbered.customer_id
),

final as (
    select
        customer_id,
        first_purchase_date,
        frequency,
        cast(recency_days as {{ dbt.type_bigint() }}) as recency_days,
        cast(t_days as {{ dbt.type_bigint() }}) as t_days,
        cast(monetary_value as {{ type_double() }}) as monetary_value,
        frequency_calibration >= 0 as is_in_calibration,
        case when frequency_calibration >= 0 then frequency_calibration end as frequency_calibration,
        cast(recency_days_calibration as {{ dbt.type_bigint() }}) as recency_days_calibration,
        case
            when frequency_calibration >= 0 then cast(t_days_calibration as {{ dbt.type_bigint() }})
        end as t_days_calibration,
        cast(monetary_value_calibration as {{ type_double() }}) as monetary_value_calibration,
        case when frequency_calibration >= 0 then holdout_purchases end as holdout_purchases
    from summarised
)

select * from final
