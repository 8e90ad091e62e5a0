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

stitched_sessions as not materialized (
    select * from {{ ref('int_sessions_stitched') }}
),

{%- if is_incremental() %}

{#- Each cookie's owner as stitched this run: the customer its anonymous sessions went to. -#}
cookie_owners as (
    select
        anonymous_id,
        min(stitched_customer_id) as owner_customer_id
    from stitched_sessions
    where customer_id is null
    group by anonymous_id
),
{%- endif %}

sessions as (
    select * from stitched_sessions
    {%- if is_incremental() %}
    where {{ sessions_to_restitch(incremental_cutoff('started_at'), 'cookie_owners') }}
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
