{#- Predicted customer lifetime value. One row per customer with a completed order, written by
    the CLV step (customer-analytics clv; the Dagster asset clv/customer_clv_fit; make build)
    from the BG/NBD and Gamma-Gamma fit on int_customers_clv_summarised (docs/clv.md). dbt
    builds it empty, with its contract, so that a build never serves the predictions of an
    earlier build: until the CLV step runs, clv_fit_status says 'not fitted'. -#}
with

clv_inputs as (
    select customer_id from {{ ref('int_customers_clv_summarised') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

final as (
    select
        customer_keys.customer_key,
        reference_dates.reference_date,
        cast(null as {{ type_double() }}) as expected_purchases_90_days,
        cast(null as {{ type_double() }}) as expected_purchases_365_days,
        cast(null as {{ type_double() }}) as probability_alive,
        cast(null as {{ type_double() }}) as expected_order_value,
        cast(null as {{ type_double() }}) as clv_12_months
    from clv_inputs
    inner join customer_keys on clv_inputs.customer_id = customer_keys.customer_id
    cross join reference_dates
    where false
)

select * from final
