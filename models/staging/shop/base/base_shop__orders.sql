{{
    config(
        materialized="incremental",
        unique_key="coalesce(order_id, '')",
    )
}}

{#- Every raw order row (exact duplicates collapsed), parsed, converted to EUR and judged.
    One row per distinct raw row; rejection_reason is null for accepted rows. -#}
{%- set raw_columns = [
    'order_id', 'customer_id', 'ordered_at', 'status', 'sales_channel', 'currency',
    'gross_amount', 'discount_amount', 'shipping_amount', 'item_count',
] -%}
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
raw_orders as not materialized (
    select * from {{ ref('raw_orders') }}
),

{%- if is_incremental() %}

{#- Incremental run: judge again only the raw rows of the keys seen inside the lookback window
    (see raw_rows_to_rejudge); the rows of every other key are kept as judged before. -#}
raw_orders_to_judge as (
    {{ raw_rows_to_rejudge(
        'raw_orders',
        clean_text('order_id'),
        parse_timestamp(clean_text('ordered_at'), fmt),
        'order_id',
        incremental_cutoff('ordered_at', where='rejection_reason is null')
    ) }}
),
{%- endif %}

collapsed as (
    {{ collapse_raw_rows(
        'raw_orders_to_judge' if is_incremental() else 'raw_orders',
        'order_id',
        raw_columns
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
        {{ clean_text('order_id') }} as order_id,
        {{ clean_text('customer_id') }} as customer_id,
        {{ parse_timestamp(clean_text('ordered_at'), fmt) }} as ordered_at,
        lower({{ clean_text('status') }}) as status,
        lower({{ clean_text('sales_channel') }}) as sales_channel,
        upper({{ clean_text('currency') }}) as currency,
        {{ parse_amount(clean_text('gross_amount'), fmt) }} as gross_amount,
        {{ parse_amount(clean_text('discount_amount'), fmt) }} as discount_amount,
        {{ parse_amount(clean_text('shipping_amount'), fmt) }} as shipping_amount,
        {{ parse_integer(clean_text('item_count')) }} as item_count,
        {{ clean_text('ordered_at') }} as ordered_at_text,
        {{ clean_text('gross_amount') }} as gross_amount_text,
        {{ clean_text('discount_amount') }} as discount_amount_text,
        {{ clean_text('shipping_amount') }} as shipping_amount_text,
        {{ clean_text('item_count') }} as item_count_text,
        {{ raw_row(raw_columns) }} as raw_row,
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

row_checked as (
    select
        *,
        {{ first_failed_check([
            ["order_id is null", "missing_key", "order_id"],
            ["not " ~ is_valid_key('order_id'), "invalid_value", "order_id"],
            ["customer_id is null", "missing_value", "customer_id"],
            ["not " ~ is_valid_key('customer_id'), "invalid_value", "customer_id"],
            ["ordered_at_text is null", "missing_value", "ordered_at"],
            ["ordered_at is null", "unparseable_value", "ordered_at"],
            ["ordered_at < " ~ earliest_valid_timestamp(), "out_of_range", "ordered_at"],
            ["status is null", "missing_value", "status"],
            ["status not in ('completed', 'returned', 'cancelled')", "invalid_enum", "status"],
            ["sales_channel is null", "missing_value", "sales_channel"],
            ["sales_channel not in ('web', 'app', 'store')", "invalid_enum", "sales_channel"],
            ["currency is null", "missing_value", "currency"],
            ["eur_per_unit is null", "invalid_enum", "currency"],
            ["gross_amount_text is null", "missing_value", "gross_amount"],
            ["gross_amount is null", "unparseable_value", "gross_amount"],
            ["discount_amount_text is null", "missing_value", "discount_amount"],
            ["discount_amount is null", "unparseable_value", "discount_amount"],
            ["shipping_amount_text is null", "missing_value", "shipping_amount"],
            ["shipping_amount is null", "unparseable_value", "shipping_amount"],
            ["item_count_text is null", "missing_value", "item_count"],
            ["item_count is null", "unparseable_value", "item_count"],
            ["gross_amount < 0", "negative_amount", "gross_amount"],
            ["discount_amount < 0", "negative_amount", "discount_amount"],
            ["shipping_amount < 0", "negative_amount", "shipping_amount"],
            ["abs(gross_amount_eur_wide) > " ~ max_amount, "out_of_range", "gross_amount"],
            ["abs(discount_amount_eur_wide) > " ~ max_amount, "out_of_range", "discount_amount"],
            ["abs(shipping_amount_eur_wide) > " ~ max_amount, "out_of_range", "shipping_amount"],
            ["discount_amount > gross_amount", "out_of_range", "discount_amount"],
            ["item_count < 1 or item_count > " ~ max_count_value(), "out_of_range", "item_count"],
        ]) }}
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
