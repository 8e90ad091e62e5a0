{{
    config(
        materialized="incremental",
        unique_key="coalesce(event_id, '')",
    )
}}

{#- Every raw email event row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{%- set raw_columns = ['event_id', 'customer_id', 'campaign_id', 'event_type', 'occurred_at'] -%}
{#- Checks across rows, in priority order (validation_outcome, rejected_raw_values). -#}
{%- set cross_row_checks = [
    ["event_id is not null and has_conflicting_duplicate", "duplicate_conflicting", "event_id"],
    ["occurred_at >= future_limit", "future_timestamp", "occurred_at"],
    ["is_unknown_customer", "unknown_customer", "customer_id"],
] -%}
{%- set fmt = raw_format('email_events') -%}

with

{# Not materialized: it is read more than once, and scanning the file again is cheaper than
    holding every raw row in memory. -#}
raw_email_events as not materialized (
    select * from {{ ref('raw_email_events') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_email_events_to_judge as (
    {{ raw_rows_to_rejudge(
        'raw_email_events',
        clean_text('event_id'),
        parse_timestamp(clean_text('occurred_at'), fmt),
        'event_id',
        incremental_cutoff('occurred_at', where='rejection_reason is null')
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_email_events_to_judge' if is_incremental() else 'raw_email_events',
        'event_id',
        raw_columns
    ) }}
),

customers as (
    select customer_id from {{ ref('stg_crm__customers') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

parsed as (
    select
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('campaign_id') }} as campaign_id,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ parse_timestamp(clean_text('occurred_at'), fmt) }} as occurred_at,
        {{ clean_text('occurred_at') }} as occurred_at_text,
        {{ raw_row(raw_columns) }} as raw_row,
        source_row_count,
        has_conflicting_duplicate,
        _source_file
    from collapsed
),

row_checked as (
    select
        *,
        {{ first_failed_check([
            ["event_id is null", "missing_key", "event_id"],
            ["not " ~ is_valid_key('event_id'), "invalid_value", "event_id"],
            ["customer_id is null", "missing_value", "customer_id"],
            ["not " ~ is_valid_key('customer_id'), "invalid_value", "customer_id"],
            ["campaign_id is null", "missing_value", "campaign_id"],
            ["not " ~ is_valid_key('campaign_id'), "invalid_value", "campaign_id"],
            ["event_type is null", "missing_value", "event_type"],
            ["event_type not in ('sent', 'delivered', 'opened', 'clicked', 'bounced', 'unsubscribed')", "invalid_enum", "event_type"],
            ["occurred_at_text is null", "missing_value", "occurred_at"],
            ["occurred_at is null", "unparseable_value", "occurred_at"],
            ["occurred_at < " ~ earliest_valid_timestamp(), "out_of_range", "occurred_at"],
        ]) }}
    from parsed
),

cross_checked as (
    select
        row_checked.*,
        customers.customer_id is null as is_unknown_customer,
        {{ future_timestamp_limit('reference_dates.reference_date') }} as future_limit
    from row_checked
    cross join reference_dates
    left join customers on row_checked.customer_id = customers.customer_id
),

final as (
    select
        event_id,
        customer_id,
        campaign_id,
        event_type,
        occurred_at,
        {{ validation_outcome(cross_row_checks) }},
        source_row_count,
        {{ rejected_raw_values(cross_row_checks, 'raw_row') }} as raw_values,
        _source_file
    from cross_checked
)

select * from final
