{#- One row per accepted customer. Personal data (email, names, birth date) stays in this
    restricted staging layer; marts derive pseudonymous or banded fields only. -#}
with

base_customers as (
    select * from {{ ref('base_crm__customers') }}
),

final as (
    select
        customer_id,
        email,
        first_name,
        last_name,
        birth_date,
        country_code,
        city,
        signup_at,
        acquisition_channel,
        referred_by_customer_id,
        loyalty_joined_at,
        has_marketing_consent,
        consent_updated_at
    from base_customers
    where rejection_reason is null
)

select * from final
