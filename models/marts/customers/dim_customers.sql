{#- The customer 360. One row per accepted customer, including customers who never ordered:
    profile, orders, web, email, NPS and RFM(E). No email, names or birth date: personal data
    stays in staging; the age is given as a band, and a customer is named by the pseudonym
    customer_key (int_customers_pseudonymised), never by the CRM key. -#}
with

customers as (
    select
        customer_id,
        birth_date,
        country_code,
        city,
        signup_at,
        acquisition_channel,
        referred_by_customer_id,
        loyalty_joined_at,
        has_marketing_consent
    from {{ ref('stg_crm__customers') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

age_bands as (
    select
        min_age,
        max_age,
        age_band
    from {{ ref('age_bands') }}
),

referrals as (
    select
        referred_by_customer_id as customer_id,
        count(*) as referred_customers
    from customers
    where referred_by_customer_id is not null
    group by referred_by_customer_id
),

customer_orders as (
    select * from {{ ref('int_customer_orders_aggregated') }}
),

customer_sessions as (
    select * from {{ ref('int_customer_sessions_aggregated') }}
),

customer_emails as (
    select * from {{ ref('int_customer_emails_aggregated') }}
),

customer_nps as (
    select * from {{ ref('int_customer_nps_aggregated') }}
),

customer_rfm as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

customer_replenishment as (
    select * from {{ ref('int_customers_replenishment_estimated') }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

profiles as (
    select
        customers.customer_id,
        customers.country_code,
        customers.city,
        customers.signup_at,
        cast(customers.signup_at as date) as signup_date,
        customers.acquisition_channel,
        customers.referred_by_customer_id is not null as is_referred,
        customers.referred_by_customer_id,
        coalesce(referrals.referred_customers, 0) as referred_customers,
        customers.loyalty_joined_at is not null
        and cast(customers.loyalty_joined_at as date) <= reference_dates.reference_date
            as is_loyalty_member,
        customers.loyalty_joined_at,
        customers.has_marketing_consent,
        extract(year from reference_dates.reference_date) - extract(year from customers.birth_date)
        - case
            when
                extract(month from reference_dates.reference_date) * 100
                + extract(day from reference_dates.reference_date)
                < extract(month from customers.birth_date) * 100 + extract(day from customers.birth_date)
                then 1
            else 0
        end as age_years
    from customers
    cross join reference_dates
    left join referrals on customers.customer_id = referrals.customer_id
),

-- The band of each age the customers have (about a hundred), so that the customers are
-- joined to it by age, not range-joined to the bands (sorting 1 M customers: 1.8 s at L).
ages_banded as (
    select
        ages.age_years,
        age_bands.age_band
    from (select distinct age_years from profiles) as ages
    inner join age_bands
        on ages.age_years between age_bands.min_age and age_bands.max_age
),

final as (
    select
        customer_keys.customer_key,
        profiles.country_code,
        profiles.city,
        profiles.signup_at,
        profiles.signup_date,
        profiles.acquisition_channel,
        profiles.is_referred,
        referrer_keys.customer_key as referred_by_customer_key,
        profiles.referred_customers,
        profiles.is_loyalty_member,
        profiles.loyalty_joined_at,
        profiles.has_marketing_consent,
        coalesce(ages_banded.age_band, 'unknown') as age_band,
        customer_orders.first_order_date,
        customer_orders.last_order_date,
        cast({{ dbt.date_trunc('month', 'customer_orders.first_order_date') }} as date) as cohort_month,
        coalesce(customer_orders.orders, 0) as orders,
        coalesce(customer_orders.completed_orders, 0) as completed_orders,
        coalesce(customer_orders.returned_orders, 0) as returned_orders,
        coalesce(customer_orders.cancelled_orders, 0) as cancelled_orders,
        customer_orders.return_rate,
        coalesce(customer_orders.gross_lifetime_revenue, cast(0 as decimal(18, 2)))
            as gross_lifetime_revenue,
        coalesce(customer_orders.net_lifetime_revenue, cast(0 as decimal(18, 2)))
            as net_lifetime_revenue,
        customer_orders.average_order_value,
        customer_orders.average_days_between_orders,
        customer_orders.days_since_last_order,
        customer_replenishment.expected_interval_days as expected_reorder_interval_days,
        coalesce(customer_replenishment.interval_source, 'none') as reorder_interval_source,
        customer_replenishment.expected_next_order_date,
        customer_replenishment.days_until_due as days_until_reorder_due,
        coalesce(customer_replenishment.replenishment_status, 'no purchase') as replenishment_status,
        coalesce(customer_replenishment.replenishment_status in ('due', 'overdue'), false)
            as is_replenishment_due,
        case
            when coalesce(customer_orders.completed_orders, 0) = 0 then 'no purchase'
            when customer_orders.completed_orders = 1 then 'new'
            else 'returning'
        end as customer_type,
        coalesce(customer_sessions.sessions, 0) as sessions,
        customer_sessions.pageviews_per_session,
        customer_sessions.average_session_seconds,
        coalesce(customer_sessions.engaged_sessions, 0) as engaged_sessions,
        coalesce(customer_sessions.is_returning_visitor, false) as is_returning_visitor,
        customer_sessions.last_session_at,
        coalesce(customer_emails.emails_delivered, 0) as emails_delivered,
        customer_emails.email_open_rate,
        customer_emails.email_click_rate,
        coalesce(customer_emails.has_unsubscribed, false) as has_unsubscribed,
        profiles.has_marketing_consent and not coalesce(customer_emails.has_unsubscribed, false)
            as is_contactable,
        coalesce(customer_nps.nps_responses, 0) as nps_responses,
        customer_nps.latest_nps_score,
        customer_nps.latest_nps_category,
        customer_nps.latest_nps_response_at,
        customer_rfm.recency_score,
        customer_rfm.frequency_score,
        customer_rfm.monetary_score,
        customer_rfm.engagement_score,
        customer_rfm.rfm_score,
        customer_rfm.rfme_score,
        coalesce(customer_rfm.rfm_segment, 'No Purchase') as rfm_segment
    from profiles
    inner join customer_keys on profiles.customer_id = customer_keys.customer_id
    left join customer_keys as referrer_keys
        on profiles.referred_by_customer_id = referrer_keys.customer_id
    left join ages_banded on profiles.age_years = ages_banded.age_years
    left join customer_orders on profiles.customer_id = customer_orders.customer_id
    left join customer_sessions on profiles.customer_id = customer_sessions.customer_id
    left join customer_emails on profiles.customer_id = customer_emails.customer_id
    left join customer_nps on profiles.customer_id = customer_nps.customer_id
    left join customer_rfm on profiles.customer_id = customer_rfm.customer_id
    left join customer_replenishment on profiles.customer_id = customer_replenishment.customer_id
)

select * from final
