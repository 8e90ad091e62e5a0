{#- One row per accepted web or app session, attributed to a customer by identity
    stitching (int_sessions_stitched), with the pseudonyms of its customers. Incremental, by
    int_sessions_stitched's change feed (docs/incremental.md, "Change feeds"): a run reads the
    sessions int_sessions_stitched wrote since this model's last run, not every session (a
    customer who joins or leaves the CRM export has their sessions judged again upstream, so
    they are among those); sessions no longer stitched are deleted. -#}
{{
    config(
        materialized="incremental",
        unique_key="session_id",
        post_hook=[
            "{{ delete_rows_no_longer_in('session_id', ref('int_sessions_stitched'), one_row_per_key=true) }}",
            "{{ record_model_change_read() }}",
        ],
        meta={
            "change_feed": {"from": "int_sessions_stitched", "key": "session_id"}
        },
    )
}}

with

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

stitched as (
    select * from {{ ref('int_sessions_stitched') }}
    where {{ model_change_feed_filter() }}
),

-- The stitched sessions with the pseudonyms of their customers (never the CRM keys).
sessions as (
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
    from stitched
    left join customer_keys as own_keys on stitched.customer_id = own_keys.customer_id
    left join customer_keys as stitched_keys
        on stitched.stitched_customer_id = stitched_keys.customer_id
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
