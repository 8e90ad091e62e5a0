{#- One row per accepted customer: the CRM customer_id and its pseudonym customer_key, the only
    customer identifier outside the restricted layers (HMAC-SHA256 under the key that the dbt
    plugin reads at run time; docs/privacy.md). Restricted: this table is the mapping that
    activation and erasure need, and it is never published. -#}
with

customers as (
    select customer_id from {{ ref('stg_crm__customers') }}
),

final as (
    select
        customer_id,
        customer_analytics_pseudonym(customer_id) as customer_key
    from customers
)

select * from final
