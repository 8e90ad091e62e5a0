{#- One row per accepted email event, with the pseudonym of its customer. Incremental, by
    base_email__email_events' change feed (docs/incremental.md, "Change feeds"): a run reads
    the events the base model wrote since this model's last run (new, judged again, or inside
    its lookback), not every event; events no longer accepted are deleted. -#}
{{
    config(
        materialized="incremental",
        unique_key="event_id",
        post_hook=[
            "{{ delete_rows_no_longer_in('event_id', ref('stg_email__email_events'), one_row_per_key=true) }}",
            "{{ record_model_change_read() }}",
        ],
        meta={"change_feed": {"from": "base_email__email_events", "key": "event_id"}},
    )
}}

with

email_events as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at
    from {{ ref('stg_email__email_events') }}
    where {{ model_change_feed_filter() }}
),

customer_keys as (
    select * from {{ ref('int_customers_pseudonymised') }}
),

final as (
    select
        email_events.event_id,
        customer_keys.customer_key,
        email_events.campaign_id,
        email_events.event_type,
        email_events.occurred_at,
        cast(email_events.occurred_at as date) as occurred_date,
        cast({{ dbt.date_trunc('month', 'email_events.occurred_at') }} as date) as occurred_month
    from email_events
    inner join customer_keys on email_events.customer_id = customer_keys.customer_id
)

select * from final
