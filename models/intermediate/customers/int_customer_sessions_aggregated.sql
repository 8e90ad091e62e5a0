{#- One row per customer with at least one (stitched) session: web engagement. -#}
with

sessions as (
    select
        stitched_customer_id as customer_id,
        session_date,
        started_at,
        duration_seconds,
        pageviews,
        is_engaged
    from {{ ref('int_sessions_stitched') }}
    where stitched_customer_id is not null
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

final as (
    select
        sessions.customer_id,
        count(*) as sessions,
        cast(sum(sessions.pageviews) as {{ dbt.type_bigint() }}) as pageviews,
        cast(sum(sessions.pageviews) as {{ type_double() }}) / count(*) as pageviews_per_session,
        cast(sum(sessions.duration_seconds) as {{ type_double() }}) / count(*) as average_session_seconds,
        count(case when sessions.is_engaged then 1 end) as engaged_sessions,
        -- sessions on two or more dates: count(distinct session_date) > 1, without the distinct
        -- (the grouping of 15 M sessions at L: 3.1 s with it, 0.6 s without)
        coalesce(min(sessions.session_date) < max(sessions.session_date), false) as is_returning_visitor,
        max(sessions.started_at) as last_session_at,
        count(
            case
                when
                    sessions.session_date > {{ dbt.dateadd('day', -setting('engagement_window_days'), 'reference_dates.reference_date') }}
                    and sessions.session_date <= reference_dates.reference_date
                    then 1
            end
        ) as recent_sessions
    from sessions
    cross join reference_dates
    group by sessions.customer_id
)

select * from final
