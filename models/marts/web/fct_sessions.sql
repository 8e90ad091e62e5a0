{#- One row per accepted web or app session, attributed to a customer by identity
    stitching (int_sessions_stitched). Incremental like int_sessions_stitched: the sessions
    inside the lookback window, those new to this model and those on a cookie whose owner
    changed. -#}
{{
    config(
        materialized="incremental",
        unique_key="session_id",
        post_hook="{{ delete_rows_no_longer_in('session_id', ref('int_sessions_stitched')) }}",
    )
}}

with

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

-- The stitched sessions with the pseudonyms of their customers (never the CRM keys).
stitched_sessions as not materialized (
    select
        stitched.session_id,
        stitched.anonymous_id,
        own_keys.customer_key,
        stitched_keys.customer_key as stitched_customer_key,
        stitched.is_stitched,
        stitched.started_at,
        stitched.session_date,
        stitched.session_month,
        stitched.duration_seconds,
        stitched.pageviews,
        stitched.traffic_source,
        stitched.device,
        stitched.landing_page,
        stitched.order_id,
        stitched.is_engaged
    from {{ ref('int_sessions_stitched') }} as stitched
    left join customer_keys as own_keys on stitched.customer_id = own_keys.customer_id
    left join customer_keys as stitched_keys
        on stitched.stitched_customer_id = stitched_keys.customer_id
),

{%- if is_incremental() %}

{#- Each cookie's owner as stitched this run: the customer its anonymous sessions went to. -#}
cookie_owners as (
    select
        anonymous_id,
        min(stitched_customer_key) as owner_customer_key
    from stitched_sessions
    where customer_key is null
    group by anonymous_id
),
{%- endif %}

sessions as (
    select * from stitched_sessions
    {%- if is_incremental() %}
    where {{ sessions_to_restitch(incremental_cutoff('started_at'), 'cookie_owners', 'customer_key') }}
    {%- endif %}
),

final as (
    select
        session_id,
        anonymous_id,
        customer_key,
        stitched_customer_key,
        is_stitched,
        started_at,
        session_date,
        session_month,
        duration_seconds,
        pageviews,
        traffic_source,
        device,
        landing_page,
        order_id,
        order_id is not null as has_order,
        is_engaged
    from sessions
)

select * from final
