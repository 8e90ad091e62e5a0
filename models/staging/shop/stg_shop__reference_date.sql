{{ config(materialized="table") }}

{#-
    One row: the reference date ("today") for everything time-relative in the project.
    var as_of_date (YYYY-MM-DD) when set; otherwise the data's own latest order date. To keep
    a few mistyped far-future order dates from moving it, only order dates up to 31 days after
    the 99th percentile order date are considered (those future rows are then quarantined as
    future_timestamp). It reads the raw orders itself, so that validation can depend on it.
-#}
{%- set as_of_date = var('as_of_date', '') | string | trim -%}
{%- if as_of_date and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', as_of_date) -%}
    {{ exceptions.raise_compiler_error(
        "var as_of_date is '" ~ as_of_date ~ "': give a date as YYYY-MM-DD, or leave it empty "
        ~ "to use the latest order date.") }}
{%- endif -%}
{%- set reference_date = "cast('" ~ as_of_date ~ "' as date)" if as_of_date else 'latest_order_date' -%}
{%- set reference_date_source = 'var as_of_date' if as_of_date else 'latest order date' %}

with

raw_orders as (
    select ordered_at from {{ ref('raw_orders') }}
),

order_dates as (
    select
        cast({{ parse_timestamp_utc(clean_text('ordered_at')) }} as date) as order_date
    from raw_orders
),

robust_order_end as (
    select percentile_disc(0.99) within group (order by order_date) as p99_order_date
    from order_dates
    where order_date is not null
),

latest_order as (
    select max(order_dates.order_date) as latest_order_date
    from order_dates
    cross join robust_order_end
    where
        order_dates.order_date
        <= {{ dbt.dateadd('day', 31, 'robust_order_end.p99_order_date') }}
),

final as (
    select
        {{ reference_date }} as reference_date,
        '{{ reference_date_source }}' as reference_date_source,
        latest_order_date
    from latest_order
)

select * from final
