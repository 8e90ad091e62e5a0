{{
    config(
        materialized="incremental",
        unique_key="coalesce(session_id, '')",
    )
}}

{#- Every raw session row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{%- set raw_columns = [
    'session_id', 'anonymous_id', 'customer_id', 'started_at', 'duration_seconds', 'pageviews',
    'traffic_source', 'device', 'landing_page', 'order_id',
] -%}
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
raw_sessions as not materialized (
    select * from {{ ref('raw_sessions') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_sessions_to_judge as (
    {{ raw_rows_to_rejudge(
        'raw_sessions',
        clean_text('session_id'),
        parse_timestamp(clean_text('started_at'), fmt),
        'session_id',
        incremental_cutoff('started_at', where='rejection_reason is null')
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_sessions_to_judge' if is_incremental() else 'raw_sessions',
        'session_id',
        raw_columns
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
        {{ clean_text('session_id') }} as session_id,
        {{ clean_text('anonymous_id') }} as anonymous_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ parse_timestamp(clean_text('started_at'), fmt) }} as started_at,
        {{ parse_integer(clean_text('duration_seconds')) }} as duration_seconds,
        {{ parse_integer(clean_text('pageviews')) }} as pageviews,
        lower({{ clean_text('traffic_source') }}) as traffic_source,
        lower({{ clean_text('device') }}) as device,
        {{ clean_text('landing_page') }} as landing_page,
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('started_at') }} as started_at_text,
        {{ clean_text('duration_seconds') }} as duration_seconds_text,
        {{ clean_text('pageviews') }} as pageviews_text,
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
            ["session_id is null", "missing_key", "session_id"],
            ["not " ~ is_valid_key('session_id'), "invalid_value", "session_id"],
            ["anonymous_id is null", "missing_value", "anonymous_id"],
            ["not " ~ is_valid_key('anonymous_id'), "invalid_value", "anonymous_id"],
            ["not " ~ is_valid_key('customer_id'), "invalid_value", "customer_id"],
            ["not " ~ is_valid_key('order_id'), "invalid_value", "order_id"],
            ["started_at_text is null", "missing_value", "started_at"],
            ["started_at is null", "unparseable_value", "started_at"],
            ["started_at < " ~ earliest_valid_timestamp(), "out_of_range", "started_at"],
            ["duration_seconds_text is null", "missing_value", "duration_seconds"],
            ["duration_seconds is null", "unparseable_value", "duration_seconds"],
            ["pageviews_text is null", "missing_value", "pageviews"],
            ["pageviews is null", "unparseable_value", "pageviews"],
            ["traffic_source is null", "missing_value", "traffic_source"],
            ["traffic_source not in ('organic_search', 'paid_search', 'social', 'email', 'referral', 'affiliate', 'direct')", "invalid_enum", "traffic_source"],
            ["device is null", "missing_value", "device"],
            ["device not in ('desktop', 'mobile', 'tablet')", "invalid_enum", "device"],
            ["duration_seconds < 0 or duration_seconds > " ~ max_count_value(), "out_of_range", "duration_seconds"],
            ["pageviews < 1 or pageviews > " ~ max_count_value(), "out_of_range", "pageviews"],
        ]) }}
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
