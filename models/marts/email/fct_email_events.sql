{#- One row per accepted email event. Incremental: each run replaces the events inside the
    lookback window (var incremental_lookback_days) and those on rows of day partitions landed
    since, and drops events sent to the quarantine. -#}
{{
    config(
        materialized="incremental",
        unique_key="event_id",
        post_hook="{{ delete_rows_no_longer_in('event_id', ref('stg_email__email_events')) }}",
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
    {%- if is_incremental() %}
    where
        occurred_at >= {{ incremental_cutoff('occurred_at') }}
        or event_id not in (select event_id from {{ this }})
        or event_id in {{ raw_keys_changed('email_events') }}
    {%- endif %}
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
