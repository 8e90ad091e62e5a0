{#- The fitted CLV model parameters. One row per (model, parameter), written by the CLV step
    (docs/clv.md); dbt builds it empty, with its contract (see customer_clv_predictions).
    The column names are those issue 19 specifies (model is an SQL keyword: noqa). -#}
with

clv_inputs as (
    select customer_id from {{ ref('int_customers_clv_summarised') }}
),

final as (
    select
        cast(null as {{ dbt.type_string() }}) as model,  -- noqa: RF04
        cast(null as {{ dbt.type_string() }}) as parameter,
        cast(null as {{ type_double() }}) as estimate,
        cast(null as {{ dbt.type_string() }}) as time_unit,
        cast(null as {{ type_double() }}) as log_likelihood,
        cast(null as {{ dbt.type_boolean() }}) as converged
    from clv_inputs
    where false
)

select * from final
