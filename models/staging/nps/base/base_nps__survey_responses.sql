{{ config(materialized="table") }}

{#- Every raw survey response row (exact duplicates collapsed), parsed and judged. One row
    per distinct raw row; rejection_reason is null for accepted rows. -#}
{%- set raw_columns = [
    'response_id', 'customer_id', 'order_id', 'submitted_at', 'score', 'comment',
    'survey_channel',
] -%}
{#- Checks across rows, in priority order (validation_outcome, rejected_raw_values). -#}
{%- set cross_row_checks = [
    ["response_id is not null and has_conflicting_duplicate", "duplicate_conflicting", "response_id"],
    ["submitted_at >= future_limit", "future_timestamp", "submitted_at"],
    ["is_unknown_customer", "unknown_customer", "customer_id"],
    ["is_unknown_order", "unknown_order", "order_id"],
] -%}
{%- set fmt = raw_format('survey_responses') -%}

with

{# Not materialized: it is read more than once, and scanning the file again is cheaper than
    holding every raw row in memory. -#}
raw_survey_responses as not materialized (
    select * from {{ ref('raw_survey_responses') }}
),

collapsed as (
    {{ collapse_raw_rows(
        'raw_survey_responses',
        'response_id',
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
        {{ clean_text('response_id') }} as response_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ clean_text('order_id') }} as order_id,
        {{ parse_timestamp(clean_text('submitted_at'), fmt) }} as submitted_at,
        {{ parse_integer(clean_text('score')) }} as score,
        {{ clean_text('comment') }} as comment_text,
        lower({{ clean_text('survey_channel') }}) as survey_channel,
        {{ clean_text('submitted_at') }} as submitted_at_text,
        {{ clean_text('score') }} as score_text,
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
            ["response_id is null", "missing_key", "response_id"],
            ["not " ~ is_valid_key('response_id'), "invalid_value", "response_id"],
            ["not " ~ is_valid_key('customer_id'), "invalid_value", "customer_id"],
            ["not " ~ is_valid_key('order_id'), "invalid_value", "order_id"],
            ["submitted_at_text is null", "missing_value", "submitted_at"],
            ["submitted_at is null", "unparseable_value", "submitted_at"],
            ["submitted_at < " ~ earliest_valid_timestamp(), "out_of_range", "submitted_at"],
            ["score_text is null", "missing_value", "score"],
            ["score is null", "unparseable_value", "score"],
            ["score < 0 or score > 10", "out_of_range", "score"],
            ["survey_channel is null", "missing_value", "survey_channel"],
            ["survey_channel not in ('email', 'web', 'app')", "invalid_enum", "survey_channel"],
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
        response_id,
        customer_id,
        order_id,
        submitted_at,
        score,
        comment_text,
        survey_channel,
        {{ validation_outcome(cross_row_checks) }},
        source_row_count,
        {{ rejected_raw_values(cross_row_checks, 'raw_row') }} as raw_values,
        _source_file
    from cross_checked
)

select * from final
