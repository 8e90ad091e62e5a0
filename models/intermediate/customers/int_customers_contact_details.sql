{{ config(materialized='view') }}

{#- One row per accepted customer: customer_key with the contact details an audience carries
    (email, first name). Restricted (personal data): read only by the audiences in
    models/activation/. A view, so that no copy of the contact details is kept here. -#}
with

customers as (
    select
        customer_id,
        email,
        first_name
    from {{ ref('stg_crm__customers') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

final as (
    select
        customer_keys.customer_key,
        customers.email,
        customers.first_name
    from customers
    inner join customer_keys on customers.customer_id = customer_keys.customer_id
)

select * from final
