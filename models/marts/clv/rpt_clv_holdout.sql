{#- The CLV calibration / holdout report. One row per calibration frequency bucket plus 'all',
    written by the CLV step (docs/clv.md, "Reading the holdout"); dbt builds it empty, with its
    contract (see customer_clv_predictions). -#}
with

clv_inputs as (
    select customer_id from {{ ref('int_customers_clv_summarised') }}
),

final as (
    select
        cast(null as {{ dbt.type_string() }}) as frequency_bucket,
        cast(null as {{ dbt.type_int() }}) as bucket_order,
        cast(null as {{ dbt.type_bigint() }}) as customers,
        cast(null as {{ type_double() }}) as actual_purchases_mean,
        cast(null as {{ type_double() }}) as predicted_purchases_mean,
        cast(null as {{ type_double() }}) as error,
        cast(null as {{ type_double() }}) as relative_error
    from clv_inputs
    where false
)

select * from final
