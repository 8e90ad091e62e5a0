{#- Predicted CLV by RFM segment. One row per RFM segment with CLV predictions, written by the
    CLV step from customer_clv_predictions and dim_customers (docs/clv.md); dbt builds it
    empty, with its contract (see customer_clv_predictions). -#}
with

clv_inputs as (
    select customer_id from {{ ref('int_customers_clv_summarised') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

customers as (
    select customer_key from {{ ref('dim_customers') }}
),

final as (
    select
        cast(null as {{ dbt.type_string() }}) as rfm_segment,
        cast(null as {{ dbt.type_bigint() }}) as customers,
        cast(null as {{ type_double() }}) as total_clv_12_months,
        cast(null as {{ type_double() }}) as mean_clv_12_months,
        cast(null as {{ type_double() }}) as p10_clv_12_months,
        cast(null as {{ type_double() }}) as p25_clv_12_months,
        cast(null as {{ type_double() }}) as median_clv_12_months,
        cast(null as {{ type_double() }}) as p75_clv_12_months,
        cast(null as {{ type_double() }}) as p90_clv_12_months,
        cast(null as {{ type_double() }}) as mean_probability_alive
    from clv_inputs
    inner join customer_keys on clv_inputs.customer_id = customer_keys.customer_id
    inner join customers on customer_keys.customer_key = customers.customer_key
    where false
)

select * from final
