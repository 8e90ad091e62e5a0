{{
    config(
        materialized="incremental",
        unique_key="coalesce(event_id, '')",
        pre_hook=[
            "{{ land_unexpired_events_again('email_events', 'raw_email_events') }}",
            "{{ delete_keys_gone_from_raw('email_events', 'event_id', 'raw_email_events') }}",
        ],
        post_hook="{{ remove_expired_events('occurred_at', 'raw_email_events', 'event_id') }}",
    )
}}

{#- Every raw email event row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{#- The raw contract (_email__sources.yml): each raw column's type, enum values
    and range, declared once; the parsing and the mechanical row checks below follow it. -#}
{%- set contract = raw_contract('email', 'email_events') -%}
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
raw_email_events as {{ not_materialized() }} (
    select * from {{ ref('raw_email_events') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_email_events_to_judge as (
    {{ raw_rows_to_rejudge(
        ref('raw_email_events'),
        raw_parsed_value(contract, 'event_id', fmt),
        raw_parsed_value(contract, 'occurred_at', fmt),
        'event_id',
        incremental_cutoff('occurred_at', where='rejection_reason is null'),
        'email_events',
        judged_against_others('occurred_at', ref('stg_shop__reference_date'), {'customer_id': ref('stg_crm__customers')}),
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_email_events_to_judge' if is_incremental() else 'raw_email_events',
        'event_id',
        contract, fmt
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
        {{ raw_parsed_columns(contract, fmt) }},
        {{ raw_row(contract.names) }} as raw_row,
        source_row_count,
        has_conflicting_duplicate,
        _source_file
    from collapsed
),

{# Row checks in priority order: the first that fails is the row's rejection_reason. A column
    name stands for the checks its declaration implies (raw_row_checks), '<column>:range' for
    its declared range; the triples are this model's own rules. -#}
row_checked as (
    select
        *,
        {{ first_failed_check(raw_row_checks(contract, [
            'event_id', 'customer_id', 'campaign_id', 'event_type', 'occurred_at',
        ])) }}
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
