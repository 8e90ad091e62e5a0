{{ config(materialized="table") }}

{#- Every raw customer row (exact duplicates collapsed), parsed and judged. One row per
    distinct raw row; rejection_reason is null for accepted rows. -#}
{%- set raw_columns = [
    'customer_id', 'email', 'first_name', 'last_name', 'birth_date', 'country_code', 'city',
    'signup_at', 'acquisition_channel', 'referred_by_customer_id', 'loyalty_joined_at',
    'marketing_consent', 'consent_updated_at',
] -%}
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
raw_customers as not materialized (
    select * from {{ ref('raw_customers') }}
),

collapsed as (
    {{ collapse_raw_rows(
        'raw_customers',
        'customer_id',
        raw_columns
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
        {{ clean_text('customer_id') }} as customer_id,
        lower({{ clean_text('email') }}) as email,
        {{ clean_text('first_name') }} as first_name,
        {{ clean_text('last_name') }} as last_name,
        {{ parse_date(clean_text('birth_date'), fmt) }} as birth_date,
        upper({{ clean_text('country_code') }}) as country_code,
        {{ clean_text('city') }} as city,
        {{ parse_timestamp(clean_text('signup_at'), fmt) }} as signup_at,
        lower({{ clean_text('acquisition_channel') }}) as acquisition_channel,
        {{ clean_text('referred_by_customer_id') }} as referred_by_customer_id,
        {{ parse_timestamp(clean_text('loyalty_joined_at'), fmt) }} as loyalty_joined_at,
        {{ parse_boolean('marketing_consent') }} as has_marketing_consent,
        {{ parse_timestamp(clean_text('consent_updated_at'), fmt) }} as consent_updated_at,
        {{ clean_text('birth_date') }} as birth_date_text,
        {{ clean_text('signup_at') }} as signup_at_text,
        {{ clean_text('loyalty_joined_at') }} as loyalty_joined_at_text,
        {{ clean_text('marketing_consent') }} as marketing_consent_text,
        {{ clean_text('consent_updated_at') }} as consent_updated_at_text,
        {{ raw_row(raw_columns) }} as raw_row,
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

row_checked as (
    select
        *,
        {{ first_failed_check([
            ["customer_id is null", "missing_key", "customer_id"],
            ["not " ~ is_valid_key('customer_id'), "invalid_value", "customer_id"],
            ["signup_at_text is null", "missing_value", "signup_at"],
            ["signup_at is null", "unparseable_value", "signup_at"],
            ["signup_at < " ~ earliest_valid_timestamp(), "out_of_range", "signup_at"],
            ["acquisition_channel is null", "missing_value", "acquisition_channel"],
            ["acquisition_channel not in ('organic_search', 'paid_search', 'social', 'email', 'referral', 'affiliate', 'direct')", "invalid_enum", "acquisition_channel"],
            ["marketing_consent_text is null", "missing_value", "marketing_consent"],
            ["has_marketing_consent is null", "unparseable_value", "marketing_consent"],
            ["birth_date_text is not null and birth_date is null", "unparseable_value", "birth_date"],
            ["birth_date < cast('1900-01-01' as date) or birth_date > cast(signup_at as date) or birth_date > reference_date", "out_of_range", "birth_date"],
            ["not " ~ is_valid_key('referred_by_customer_id'), "invalid_value", "referred_by_customer_id"],
            ["loyalty_joined_at_text is not null and loyalty_joined_at is null", "unparseable_value", "loyalty_joined_at"],
            ["loyalty_joined_at < " ~ earliest_valid_timestamp(), "out_of_range", "loyalty_joined_at"],
            ["consent_updated_at_text is not null and consent_updated_at is null", "unparseable_value", "consent_updated_at"],
            ["consent_updated_at < " ~ earliest_valid_timestamp(), "out_of_range", "consent_updated_at"],
            ["email is not null and email not like '%_@_%'", "invalid_value", "email"],
            ["country_code is not null and known_country_code is null", "invalid_enum", "country_code"],
        ]) }}
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
