{#- One row per accepted session, attributed to a customer by identity stitching: a session
    without a customer_id is attributed to the customer seen with its anonymous_id in any
    identified session (when several customers share a cookie: the one with the most
    identified sessions on it, then the smallest customer_id). Logged-in sessions keep their
    own customer. Both ids are kept.
    Incremental: each run re-stitches the sessions inside the lookback window, the sessions
    base_web_analytics__sessions wrote since this model's last run (its change feed: new,
    judged again), and every session on a cookie whose owner changed (see
    sessions_to_restitch). -#}
{{
    config(
        materialized="incremental",
        unique_key="session_id",
        post_hook=[
            "{{ delete_rows_no_longer_in('session_id', ref('stg_web_analytics__sessions'), one_row_per_key=true) }}",
            "{{ record_model_change_read() }}",
        ],
        meta={"change_feed": {"from": "base_web_analytics__sessions", "key": "session_id"}},
    )
}}

with

all_sessions as {{ not_materialized() }} (
    select
        session_id,
        anonymous_id,
        customer_id,
        started_at,
        duration_seconds,
        pageviews,
        traffic_source,
        device,
        landing_page,
        order_id
    from {{ ref('stg_web_analytics__sessions') }}
),

identified_cookies as (
    select
        anonymous_id,
        customer_id,
        count(*) as identified_sessions
    from all_sessions
    where customer_id is not null
    group by anonymous_id, customer_id
),

ranked_cookie_owners as (
    select
        anonymous_id,
        customer_id,
        row_number() over (
            partition by anonymous_id order by identified_sessions desc, customer_id asc
        ) as owner_rank
    from identified_cookies
),

cookie_owners as (
    select
        anonymous_id,
        customer_id as owner_customer_id
    from ranked_cookie_owners
    where owner_rank = 1
),

sessions as (
    select * from all_sessions
    {%- if is_incremental() %}
    where {{ sessions_to_restitch(incremental_cutoff('started_at'), 'cookie_owners') }}
    {%- endif %}
),

final as (
    select
        sessions.session_id,
        sessions.anonymous_id,
        sessions.customer_id,
        coalesce(sessions.customer_id, cookie_owners.owner_customer_id) as stitched_customer_id,
        sessions.customer_id is null and cookie_owners.owner_customer_id is not null as is_stitched,
        sessions.started_at,
        cast(sessions.started_at as date) as session_date,
        cast({{ dbt.date_trunc('month', 'sessions.started_at') }} as date) as session_month,
        sessions.duration_seconds,
        sessions.pageviews,
        sessions.traffic_source,
        sessions.device,
        sessions.landing_page,
        sessions.order_id,
        (
            sessions.duration_seconds >= {{ setting('engaged_session_min_seconds') }}
            or sessions.pageviews >= {{ setting('engaged_session_min_pageviews') }}
            or sessions.order_id is not null
        ) as is_engaged
    from sessions
    left join cookie_owners on sessions.anonymous_id = cookie_owners.anonymous_id
)

select * from final
