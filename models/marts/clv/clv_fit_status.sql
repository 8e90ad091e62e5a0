{#- Whether the CLV models were fitted for this build. One row. dbt writes 'not fitted' with
    the build's reference date, the holdout cut-off (var clv_holdout_days) and the size of the
    CLV inputs; the CLV step sets fit_status 'fitted', 'fitted without holdout' or 'failed' and the
    message (docs/clv.md). The served CLV tables are empty unless fit_status starts with 'fitted'. -#}
with

clv_inputs as (
    select frequency from {{ ref('int_customers_clv_summarised') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

input_sizes as (
    select
        count(*) as customers,
        count(case when frequency > 0 then 1 end) as repeat_customers
    from clv_inputs
),

final as (
    select
        'not fitted' as fit_status,
        'The CLV models are fitted after dbt build by customer-analytics clv (make build and the Dagster job run it).'
            as message,
        reference_dates.reference_date,
        cast({{ dbt.dateadd('day', -setting('clv_holdout_days'), 'reference_dates.reference_date') }} as date)
            as holdout_cutoff_date,
        {{ setting('clv_holdout_days') }} as holdout_days,
        input_sizes.customers,
        input_sizes.repeat_customers,
        cast(null as {{ type_double() }}) as annual_discount_rate
    from reference_dates
    cross join input_sizes
)

select * from final
