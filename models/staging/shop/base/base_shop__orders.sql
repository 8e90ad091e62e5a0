{{
    config(
        materialized="incremental",
        unique_key="coalesce(order_id, '')",
        pre_hook="{{ delete_keys_gone_from_raw('orders', 'order_id', 'raw_orders') }}",
    )
}}

{#- Every raw order row (exact duplicates collapsed), parsed, converted to EUR and judged.
    One row per distinct raw row; rejection_reason is null for accepted rows. -#}
{#- The raw contract (_shop__sources.yml): each raw column's type, enum values
    and range, declared once; the parsing and the mechanical row checks below follow it. -#}
{%- set contract = raw_contract('shop', 'orders') -%}
{#- Checks across rows, in priority order (validation_outcome, rejected_raw_values). -#}
{%- set cross_row_checks = [
    ["order_id is not null and has_conflicting_duplicate", "duplicate_conflicting", "order_id"],
    ["ordered_at >= future_limit", "future_timestamp", "ordered_at"],
    ["is_unknown_customer", "unknown_customer", "customer_id"],
] -%}
{%- set fmt = raw_format('orders') -%}
{#- a EUR amount beyond var max_amount_eur is out_of_range: it could not be real, and sums
    of such amounts would overflow the marts' decimal(18, 2) -#}
{%- set max_amount = setting('max_amount_eur') -%}

with

{# Not materialized: it is read more than once, and scanning the file again is cheaper than
    holding every raw row in memory. -#}
raw_orders as {{ not_materialized() }} (
    select * from {{ ref('raw_orders') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_orders_to_judge as (
    {{ raw_rows_to_rejudge(
        ref('raw_orders'),
        raw_parsed_value(contract, 'order_id', fmt),
        raw_parsed_value(contract, 'ordered_at', fmt),
        'order_id',
        incremental_cutoff('ordered_at', where='rejection_reason is null'),
        'orders',
        judged_against_others('ordered_at', ref('stg_shop__reference_date'), {'customer_id': ref('stg_crm__customers')}),
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_orders_to_judge' if is_incremental() else 'raw_orders',
        'order_id',
        contract, fmt
    ) }}
),

fx_rates as (
    select
        currency,
        eur_per_unit
    from {{ ref('fx_rates') }}
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

{# In EUR, rounded half away from zero to the cent, computed as decimal(38, 2) so that no
    amount can overflow here; final keeps those that fit decimal(18, 2). #}
converted as (
    select
        parsed.*,
        fx_rates.eur_per_unit,
        round(cast(parsed.gross_amount as decimal(38, 2)) * fx_rates.eur_per_unit, 2) as gross_amount_eur_wide,
        round(cast(parsed.discount_amount as decimal(38, 2)) * fx_rates.eur_per_unit, 2) as discount_amount_eur_wide,
        round(cast(parsed.shipping_amount as decimal(38, 2)) * fx_rates.eur_per_unit, 2) as shipping_amount_eur_wide
    from parsed
    left join fx_rates on parsed.currency = fx_rates.currency
),

{# Row checks in priority order: the first that fails is the row's rejection_reason. A column
    name stands for the checks its declaration implies (raw_row_checks), '<column>:range' for
    its declared range; the triples are this model's own rules. -#}
row_checked as (
    select
        *,
        {{ first_failed_check(raw_row_checks(contract, [
            'order_id', 'customer_id', 'ordered_at', 'status', 'sales_channel', 'currency',
            ["eur_per_unit is null", "invalid_enum", "currency"],
            'gross_amount', 'discount_amount', 'shipping_amount', 'item_count',
            'gross_amount:range', 'discount_amount:range', 'shipping_amount:range',
            ["abs(gross_amount_eur_wide) > " ~ max_amount, "out_of_range", "gross_amount"],
            ["abs(discount_amount_eur_wide) > " ~ max_amount, "out_of_range", "discount_amount"],
            ["abs(shipping_amount_eur_wide) > " ~ max_amount, "out_of_range", "shipping_amount"],
            ["discount_amount > gross_amount", "out_of_range", "discount_amount"],
            'item_count:range',
        ])) }}
    from converted
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
        order_id,
        customer_id,
        ordered_at,
        status,
        sales_channel,
        currency,
        gross_amount,
        discount_amount,
        shipping_amount,
        {% for amount in ['gross_amount', 'discount_amount', 'shipping_amount'] -%}
        case
            when abs({{ amount }}_eur_wide) <= {{ max_amount }}
                then cast({{ amount }}_eur_wide as decimal(18, 2))
        end as {{ amount }}_eur,
        {% endfor -%}
        item_count,
        {{ validation_outcome(cross_row_checks) }},
        source_row_count,
        {{ rejected_raw_values(cross_row_checks, 'raw_row') }} as raw_values,
        _source_file
    from cross_checked
)

select * from final
