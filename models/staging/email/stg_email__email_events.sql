{#- One row per accepted email event. -#}
{#- Its rows are base rows, filtered: its scoped data tests read the keys the base model's
    incremental run wrote (macros/incremental/data_test_scope.sql). -#}
{{
    config(
        meta={
            "data_test_scope": {
                "model": "base_email__email_events",
                "key": "coalesce(event_id, '')",
            }
        },
    )
}}
with

base_email_events as (
    select * from {{ ref('base_email__email_events') }}
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from base_email_events
    where rejection_reason is null
)

select * from final
