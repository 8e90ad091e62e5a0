{#- One row per accepted email event. Incremental: each run replaces the events inside the
    lookback window (var incremental_lookback_days) and drops events sent to the quarantine. -#}
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
    {%- endif %}
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        cast(occurred_at as date) as occurred_date,
        cast({{ dbt.date_trunc('month', 'occurred_at') }} as date) as occurred_month
    from email_events
)

select * from final
