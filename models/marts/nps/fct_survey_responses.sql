{#- One row per accepted NPS response with its category and the context of the customer
    and the surveyed order. Free-text comments stay in staging (they can hold personal data). -#}
with

responses as (
    select * from {{ ref('int_survey_responses_categorised') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

customers as (
    select
        customer_key,
        acquisition_channel,
        is_loyalty_member,
        rfm_segment
    from {{ ref('dim_customers') }}
),

orders as (
    select
        order_id,
        status,
        completed_order_number
    from {{ ref('int_orders_sequenced') }}
),

final as (
    select
        responses.response_id,
        customer_keys.customer_key,
        responses.order_id,
        responses.submitted_at,
        responses.submitted_date,
        responses.submitted_month,
        responses.score,
        responses.nps_category,
        responses.survey_channel,
        orders.status as order_status,
        customers.acquisition_channel,
        customers.is_loyalty_member,
        customers.rfm_segment
    from responses
    left join customer_keys on responses.customer_id = customer_keys.customer_id
    left join customers on customer_keys.customer_key = customers.customer_key
    left join orders on responses.order_id = orders.order_id
)

select * from final
