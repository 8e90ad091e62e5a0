{#- One row per accepted customer: the CRM customer_id and its pseudonym customer_key, the only
    customer identifier outside the restricted layers (HMAC-SHA256 under the key read at run
    time, macro pseudonym; docs/privacy.md). Restricted: this table is the mapping that
    activation and erasure need, and it is never published.

    Incremental: a customer's pseudonym depends on nothing but the customer_id and the key, so
    a run computes it for the customers new to the CRM export alone and deletes the customers
    no longer in it; another key (or another erasure request) rebuilds it in full, as every
    incremental model (docs/incremental.md). -#}
{{
    config(
        materialized="incremental",
        unique_key="customer_id",
        post_hook="{{ delete_rows_no_longer_in('customer_id', ref('stg_crm__customers'), one_row_per_key=true) }}",
    )
}}

with

customers as (
    select customer_id from {{ ref('stg_crm__customers') }}
    {%- if is_incremental() %}
    where customer_id not in (select pseudonymised.customer_id from {{ this }} as pseudonymised)
    {%- endif %}
),

final as (
    select
        customer_id,
        {{ pseudonym('customer_id') }} as customer_key
    from customers
)

select * from final
