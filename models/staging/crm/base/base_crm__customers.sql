{{ config(materialized="table") }}

{#- Every raw customer row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{#- The raw contract (_crm__sources.yml): each raw column's type, enum values
    and range, declared once; the parsing and the mechanical row checks below follow it. -#}
{%- set contract = raw_contract('crm', 'customers') -%}
{#- Checks across rows, in priority order (validation_outcome, rejected_raw_values). -#}
{%- set cross_row_checks = [
    ["customer_id is not null and has_conflicting_duplicate", "duplicate_conflicting", "customer_id"],
    ["signup_at >= future_limit", "future_timestamp", "signup_at"],
    ["loyalty_joined_at >= future_limit", "future_timestamp", "loyalty_joined_at"],
    ["consent_updated_at >= future_limit", "future_timestamp", "consent_updated_at"],
] -%}
{%- set fmt = raw_format('customers') -%}

with

{# Not materialized: it is read more than once, and scanning the file again is cheaper than
    holding every raw row in memory. -#}
raw_customers as {{ not_materialized() }} (
    select * from {{ ref('raw_customers') }}
),

collapsed as (
    {{ collapse_raw_rows(
        'raw_customers',
        'customer_id',
        contract, fmt
    ) }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

country_codes as (
    select country_code from {{ ref('country_codes') }}
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

with_country as (
    select
        parsed.*,
        country_codes.country_code as known_country_code,
        reference_dates.reference_date
    from parsed
    cross join reference_dates
    left join country_codes on parsed.country_code = country_codes.country_code
),

{# Row checks in priority order: the first that fails is the row's rejection_reason. A column
    name stands for the checks its declaration implies (raw_row_checks), '<column>:range' for
    its declared range; the triples are this model's own rules. -#}
row_checked as (
    select
        *,
        {{ first_failed_check(raw_row_checks(contract, [
            'customer_id', 'signup_at', 'acquisition_channel', 'marketing_consent', 'birth_date',
            ["birth_date < cast('1900-01-01' as date) or birth_date > cast(signup_at as date) or birth_date > reference_date", "out_of_range", "birth_date"],
            'referred_by_customer_id', 'loyalty_joined_at', 'consent_updated_at',
            ["email is not null and email not like '%_@_%'", "invalid_value", "email"],
            ["country_code is not null and known_country_code is null", "invalid_enum", "country_code"],
        ])) }}
    from with_country
),

cross_checked as (
    select
        *,
        {{ future_timestamp_limit('reference_date') }} as future_limit
    from row_checked
),

final as (
    select
        customer_id,
        email,
        first_name,
        last_name,
        birth_date,
        country_code,
        city,
        signup_at,
        acquisition_channel,
        referred_by_customer_id,
        loyalty_joined_at,
        has_marketing_consent,
        consent_updated_at,
        {{ validation_outcome(cross_row_checks) }},
        source_row_count,
        {{ rejected_raw_values(cross_row_checks, 'raw_row') }} as raw_values,
        _source_file
    from cross_checked
)

select * from final
