{{
    config(
        materialized="incremental",
        unique_key="coalesce(session_id, '')",
        pre_hook=[
            "{{ land_unexpired_events_again('sessions', 'raw_sessions') }}",
            "{{ delete_keys_gone_from_raw('sessions', 'session_id', 'raw_sessions') }}",
        ],
        post_hook="{{ remove_expired_events('started_at', 'raw_sessions', 'session_id') }}",
    )
}}

{#- Every raw session row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{#- The raw contract (_web_analytics__sources.yml): each raw column's type, enum values
    and range, declared once; the parsing and the mechanical row checks below follow it. -#}
{%- set contract = raw_contract('web_analytics', 'sessions') -%}
{#- Checks across rows, in priority order (validation_outcome, rejected_raw_values). -#}
{%- set cross_row_checks = [
    ["session_id is not null and has_conflicting_duplicate", "duplicate_conflicting", "session_id"],
    ["started_at >= future_limit", "future_timestamp", "started_at"],
    ["is_unknown_customer", "unknown_customer", "customer_id"],
    ["is_unknown_order", "unknown_order", "order_id"],
] -%}
{%- set fmt = raw_format('sessions') -%}

with

{# Not materialized: it is read more than once, and scanning the file again is cheaper than
    holding every raw row in memory. -#}
raw_sessions as {{ not_materialized() }} (
    select * from {{ ref('raw_sessions') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_sessions_to_judge as (
    {{ raw_rows_to_rejudge(
        ref('raw_sessions'),
        raw_parsed_value(contract, 'session_id', fmt),
        raw_parsed_value(contract, 'started_at', fmt),
        'session_id',
        incremental_cutoff('started_at', where='rejection_reason is null'),
        'sessions',
        judged_against_others('started_at', ref('stg_shop__reference_date'), {'customer_id': ref('stg_crm__customers'), 'order_id': ref('stg_shop__orders')}),
        {raw_parsed_value(contract, 'order_id', fmt): 'orders'},
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_sessions_to_judge' if is_incremental() else 'raw_sessions',
        'session_id',
        contract, fmt
    ) }}
),

customers as (
    select customer_id from {{ ref('stg_crm__customers') }}
),

orders as (
    select order_id from {{ ref('stg_shop__orders') }}
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
            'session_id', 'anonymous_id', 'customer_id', 'order_id', 'started_at',
            'duration_seconds', 'pageviews', 'traffic_source', 'device',
            'duration_seconds:range', 'pageviews:range',
        ])) }}
    from parsed
),

cross_checked as (
    select
        row_checked.*,
        row_checked.customer_id is not null and customers.customer_id is null as is_unknown_customer,
        row_checked.order_id is not null and orders.order_id is null as is_unknown_order,
        {{ future_timestamp_limit('reference_dates.reference_date') }} as future_limit
    from row_checked
    cross join reference_dates
    left join customers on row_checked.customer_id = customers.customer_id
    left join orders on row_checked.order_id = orders.order_id
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
        order_id,
        {{ validation_outcome(cross_row_checks) }},
        source_row_count,
        {{ rejected_raw_values(cross_row_checks, 'raw_row') }} as raw_values,
        _source_file
    from cross_checked
)

select * from final
