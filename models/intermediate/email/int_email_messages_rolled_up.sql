{#- One row per email message (customer × campaign): when it was sent, delivered, first
    opened and clicked, bounced, and whether the customer unsubscribed from it.

    Incremental by message, on base_email__email_events' change feed (docs/incremental.md,
    "Incremental aggregates"): a message's row depends on every accepted event of it, so a run
    rolls up again every event of the messages it touches, and keeps the other rows:
    - the messages of the accepted events base_email__email_events wrote since this model's
      last run (new, late, judged again);
    - the messages holding an event older than the retention window (var
      event_retention_days), which the base model removes;
    - the messages that lost an event some other way (quarantined by a late conflicting copy,
      gone from a day partition landed again, moved to another campaign, a customer gone from
      the CRM export). The feed names the events written, not the message an event left, so
      these are found by counting: an untouched message can only lose events (a new one is
      in the feed), so the events the untouched rows count (event_count) equal the accepted
      events of their messages exactly when none lost one. Only when the two totals differ are
      the messages' counts compared, and those that differ are rolled up again.
    A touched message without an accepted event left is written with event_count 0 and
    deleted by the post-hook. -#}
{{
    config(
        materialized="incremental",
        unique_key="message_id",
        post_hook=[
            "{{ 'delete from ' ~ this ~ ' where event_count = 0' if is_incremental() else 'select 1' }}",
            "{{ record_model_change_read() }}",
        ],
        meta={"change_feed": {"from": "base_email__email_events", "key": "event_id"}},
    )
}}

-- depends_on: {{ ref('stg_shop__reference_date') }}

{%- set timestamps = {
    'sent_at': 'sent',
    'delivered_at': 'delivered',
    'first_opened_at': 'opened',
    'first_clicked_at': 'clicked',
    'bounced_at': 'bounced',
    'unsubscribed_at': 'unsubscribed',
} %}

{%- if is_incremental() %}
{%- set feed_keys = model_change_feed_keys() %}
{%- set touched_sql -%}
{%- if feed_keys is not none %}
select customer_id, campaign_id from {{ ref('stg_email__email_events') }}
where {{ model_change_feed_filter() }}
union
{%- endif %}
select customer_id, campaign_id from {{ this }}
where least({{ timestamps.keys() | join(', ') }}) < (
    select {{ dbt.dateadd('day', -setting('event_retention_days'), 'reference_date') }}
    from {{ ref('stg_shop__reference_date') }}
)
{%- endset %}
{#- every message read again (no record of a read, or the base model was built in full
    since): every message's count is compared -#}
{%- set lost_events = true %}
{%- if execute and feed_keys is not none %}
    {%- set totals = run_query(
        'with touched as (' ~ touched_sql ~ ') select'
        ~ ' (select coalesce(sum(event_count), 0) from ' ~ this ~ ' as messages'
        ~ ' where not exists (select 1 from touched where touched.customer_id = messages.customer_id'
        ~ ' and touched.campaign_id = messages.campaign_id)),'
        ~ ' (select count(*) from ' ~ ref('stg_email__email_events') ~ ' as events'
        ~ ' where not exists (select 1 from touched where touched.customer_id = events.customer_id'
        ~ ' and touched.campaign_id = events.campaign_id))').rows[0] %}
    {%- set lost_events = totals[0] != totals[1] %}
{%- endif %}
{%- endif %}

with

{%- if is_incremental() %}

messages_to_roll_up as (
    {{ touched_sql }}
    {%- if lost_events %}
    union
    select messages.customer_id, messages.campaign_id
    from {{ this }} as messages
    left join (
        select customer_id, campaign_id, count(*) as event_count
        from {{ ref('stg_email__email_events') }}
        group by customer_id, campaign_id
    ) as counted
        on messages.customer_id = counted.customer_id and messages.campaign_id = counted.campaign_id
    where counted.event_count is distinct from messages.event_count
    {%- endif %}
),
{%- endif %}

email_events as (
    select
        accepted.customer_id,
        accepted.campaign_id,
        accepted.event_type,
        accepted.occurred_at
    from {{ ref('stg_email__email_events') }} as accepted
    {%- if is_incremental() and not (feed_keys is none and lost_events) %}
    where exists (
        select 1 from messages_to_roll_up
        where
            messages_to_roll_up.customer_id = accepted.customer_id
            and messages_to_roll_up.campaign_id = accepted.campaign_id
    )
    {%- endif %}
),

rolled_up as (
    select
        customer_id,
        campaign_id,
        {%- for column, event_type in timestamps.items() %}
        min(case when event_type = '{{ event_type }}' then occurred_at end) as {{ column }},
        {%- endfor %}
        count(*) as event_count
    from email_events
    group by customer_id, campaign_id
    {%- if is_incremental() %}
    union all
    -- a touched message without an accepted event left: replaced, then deleted
    select
        messages_to_roll_up.customer_id,
        messages_to_roll_up.campaign_id,
        {%- for column in timestamps %}
        cast(null as timestamp) as {{ column }},
        {%- endfor %}
        0 as event_count
    from messages_to_roll_up
    where not exists (
        select 1 from email_events
        where
            email_events.customer_id = messages_to_roll_up.customer_id
            and email_events.campaign_id = messages_to_roll_up.campaign_id
    )
    {%- endif %}
),

final as (
    select
        {{ dbt.hash("customer_id || '|' || campaign_id") }} as message_id,
        customer_id,
        campaign_id,
        sent_at,
        delivered_at,
        cast({{ dbt.date_trunc('month', 'delivered_at') }} as date) as delivered_month,
        first_opened_at,
        first_clicked_at,
        bounced_at,
        unsubscribed_at,
        delivered_at is not null as is_delivered,
        delivered_at is not null and first_opened_at is not null as is_opened,
        delivered_at is not null and first_clicked_at is not null as is_clicked,
        event_count
    from rolled_up
)

select * from final
