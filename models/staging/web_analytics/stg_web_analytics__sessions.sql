{#- One row per accepted web or app session. -#}
{#- Its rows are base rows, filtered: its scoped data tests read the keys the base model's
    incremental run wrote (macros/incremental/data_test_scope.sql). -#}
{{
    config(
        meta={
            "data_test_scope": {
                "model": "base_web_analytics__sessions",
                "key": "coalesce(session_id, '')",
            }
        },
    )
}}
with

base_sessions as (
    select * from {{ ref('base_web_analytics__sessions') }}
),

final as (
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
    from base_sessions
    where rejection_reason is null
)

select * from final
