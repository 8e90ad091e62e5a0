{#- One row per accepted web or app session, attributed to a customer by identity
    stitching (int_sessions_stitched). Incremental like int_sessions_stitched: the sessions
    inside the lookback window and those on a cookie whose owner may have changed. -#}
{{
    config(
        materialized="incremental",
        unique_key="session_id",
        post_hook="{{ delete_rows_no_longer_in('session_id', ref('int_sessions_stitched')) }}",
    )
}}

with

sessions as (
    select * from {{ ref('int_sessions_stitched') }}
    {%- if is_incremental() %}
    where {{ sessions_to_restitch(ref('int_sessions_stitched'), incremental_cutoff('started_at')) }}
    {%- endif %}
),

final as (
    select
        session_id,
        anonymous_id,
        customer_id,
        stitched_customer_id,
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
