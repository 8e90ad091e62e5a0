{#- The customer lifecycle. One row per (customer, month) from the month of signup (or of the
    first completed order, if earlier) through the reference month: the stage at the period
    end (the month's last day, or the reference date in the reference month) and the signals
    that explain it. Stages, first rule that applies (docs/lifecycle.md; thresholds are vars):
    prospect (no completed order yet), churned (not active: last completed order at least
    var churn_window_days days before the period end, as in fct_customer_months), new (first
    completed order fewer than var lifecycle_new_window_days days ago), reactivated (a completed
    order after a gap of at least churn_window_days, fewer than lifecycle_new_window_days days
    ago), lapsing (the gap signal, or at least two of the three trend signals), loyal (at least
    var lifecycle_loyal_min_orders completed orders in the 12 months to the period end, or net
    revenue to date in the top var lifecycle_loyal_top_value_share of the customers who have
    ordered), active (otherwise).

    Incremental (docs/incremental.md, "Incremental aggregates"): a run rebuilds every row from
    the first month whose inputs changed on (customer_lifecycle_rebuild: the previous or new
    reference month on a daily run), for every customer (the value rank compares the customers
    of a month); the rows before it are kept. The windows over each customer's months read
    the months from lookback_months before that month, and the running totals start from the
    sums of the months before those. A full build is the same query from the first month.
    A run that rebuilds at most summed_months_at_most months (a daily run: the reference
    month, and the month before it at a month's end) takes the same sums grouped per
    customer and rebuilt month instead of the windows, which sort every customer's months
    (docs/incremental.md, "Sums, not windows, on a daily run"). -#}
{{
    config(
        materialized="incremental",
        incremental_strategy=incremental_strategy_for("append"),
        pre_hook="{{ delete_customer_lifecycle_to_rebuild() }}",
        post_hook="{{ record_customer_lifecycle_inputs() }}",
        meta={
            "data_test_scope": {"key": "month"},
            "incremental_settings": [
                "lifecycle_new_window_days",
                "lifecycle_loyal_min_orders",
                "lifecycle_loyal_top_value_share",
                "lifecycle_lapsing_gap_ratio",
                "lifecycle_trend_window_months",
                "lifecycle_trend_min_change",
            ],
        },
    )
}}
{%- set trend_months = setting('lifecycle_trend_window_months') -%}
{%- set min_change = setting('lifecycle_trend_min_change') -%}
{#- the months before a month its windows read (12 months; two trend windows) -#}
{%- set lookback_months = [11, 2 * trend_months - 1] | max -%}
{#- the first month this run builds: every month on a full build -#}
{%- set rebuild_from = customer_lifecycle_rebuild_from() if is_incremental() else "cast('0001-01-01' as date)" -%}
{%- set window_from = 'cast(' ~ dbt.dateadd('month', -lookback_months, rebuild_from) ~ ' as date)' -%}
{%- set summed_months_at_most = 2 -%}
with

-- the customers, as their fingerprints are taken (macros/incremental/customer_lifecycle_rebuild.sql)
customers as (
    {{ customer_lifecycle_customers() }}
),

customer_months as (
    select
        customer_id,
        month,
        period_end,
        completed_orders,
        net_revenue,
        last_order_date_to_period_end,
        is_active
    from {{ ref('int_customer_months') }}
    where month >= {{ window_from }}
),

-- The sums over each customer's months before the windows (none on a full build).
earlier_months as (
    select
        customer_id,
        sum(completed_orders) as completed_orders,
        sum(net_revenue) as net_revenue
    from {{ ref('int_customer_months') }}
    where month < {{ window_from }}
    group by customer_id
),

orders as (
    select
        customer_id,
        order_date,
        order_month,
        status,
        days_since_previous_completed_order
    from {{ ref('int_orders_sequenced') }}
),

population_intervals as (
    select max(population_median_interval_days) as population_median_interval_days
    from {{ ref('int_customers_replenishment_estimated') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

-- Returned orders and reactivating orders (a completed order after a churn-length gap), per
-- customer and month.
monthly_order_events as (
    select
        customer_id,
        order_month,
        count(case when status = 'returned' then 1 end) as returned_orders,
        max(
            case
                when
                    status = 'completed'
                    and days_since_previous_completed_order >= {{ setting('churn_window_days') }}
                    then order_date
            end
        ) as last_reactivation_date_in_month
    from orders
    where order_month >= {{ window_from }}
    group by customer_id, order_month
),

earlier_reactivations as (
    select
        customer_id,
        max(order_date) as last_reactivation_date
    from orders
    where
        order_month < {{ window_from }}
        and status = 'completed'
        and days_since_previous_completed_order >= {{ setting('churn_window_days') }}
    group by customer_id
),

months_range as (
    select
        min(cast({{ dbt.date_trunc('month', 'customers.signup_date') }} as date)) as first_month,
        max(reference_dates.reference_date) as reference_date
    from customers
    cross join reference_dates
),

months as (
    {{ month_series('months_range.first_month', 'months_range.reference_date', 'months_range') }}
),

-- The months this run builds (every month on a full build), and whether it takes the sums
-- of the windows below grouped instead: a run that builds a few months sums each
-- customer's months up to each of them (a dozen rows per customer and month) rather than
-- sorting them all.
rebuilt_month_list as (
    select month from months
    where month >= {{ rebuild_from }}
),

summing as (
    select count(*) <= {{ summed_months_at_most }} as is_summed from rebuilt_month_list
),

summed_month_list as (
    select month from rebuilt_month_list
    where (select summing.is_summed from summing)
),

-- Months between signup and the first completed order (or the reference month).
prospect_months as (
    select
        customers.customer_id,
        customers.customer_key,
        months.month,
        case
            when months.month = cast({{ dbt.date_trunc('month', 'reference_dates.reference_date') }} as date)
                then reference_dates.reference_date
            else cast({{ dbt.last_day('months.month', 'month') }} as date)
        end as period_end
    from customers
    cross join reference_dates
    inner join months
        on
            months.month >= cast({{ dbt.date_trunc('month', 'customers.signup_date') }} as date)
            and (
                customers.first_order_date is null
                or months.month < cast({{ dbt.date_trunc('month', 'customers.first_order_date') }} as date)
            )
    where months.month >= {{ rebuild_from }}
),

-- The sums over each customer's months up to each month, from the first month read (the
-- running totals) or in a window: by window functions (the months are consecutive, so rows
-- are months) ...
windowed_sums as (
    select
        customer_months.customer_id,
        customer_months.month,
        sum(customer_months.completed_orders) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between unbounded preceding and current row
        ) as completed_orders_read,
        sum(customer_months.net_revenue) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between unbounded preceding and current row
        ) as net_revenue_read,
        sum(customer_months.completed_orders) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between 11 preceding and current row
        ) as completed_orders_last_12_months,
        max(monthly_order_events.last_reactivation_date_in_month) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between unbounded preceding and current row
        ) as last_reactivation_date_read,
        sum(customer_months.completed_orders) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ trend_months - 1 }} preceding and current row
        ) as orders_recent,
        coalesce(sum(customer_months.completed_orders) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ 2 * trend_months - 1 }} preceding and {{ trend_months }} preceding
        ), 0) as orders_previous,
        sum(customer_months.net_revenue) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ trend_months - 1 }} preceding and current row
        ) as net_revenue_recent,
        coalesce(sum(customer_months.net_revenue) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ 2 * trend_months - 1 }} preceding and {{ trend_months }} preceding
        ), 0) as net_revenue_previous,
        sum(coalesce(monthly_order_events.returned_orders, 0)) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ trend_months - 1 }} preceding and current row
        ) as returns_recent,
        coalesce(sum(coalesce(monthly_order_events.returned_orders, 0)) over (
            partition by customer_months.customer_id order by customer_months.month
            rows between {{ 2 * trend_months - 1 }} preceding and {{ trend_months }} preceding
        ), 0) as returns_previous
    from customer_months
    left join monthly_order_events
        on
            customer_months.customer_id = monthly_order_events.customer_id
            and customer_months.month = monthly_order_events.order_month
    where not (select summing.is_summed from summing)
),

-- ... or, on a run that rebuilds a few months, grouped: each customer's months up to each
-- rebuilt month, and how many months before it they lie (rows between n preceding and
-- current row are the months fewer than n + 1 months before).
months_up_to_rebuilt as (
    select
        summed_month_list.month as rebuilt_month,
        customer_months.customer_id,
        {{ month_diff('customer_months.month', 'summed_month_list.month') }} as months_before,
        customer_months.completed_orders,
        customer_months.net_revenue,
        coalesce(monthly_order_events.returned_orders, 0) as returned_orders,
        monthly_order_events.last_reactivation_date_in_month
    from customer_months
    inner join summed_month_list on customer_months.month <= summed_month_list.month
    left join monthly_order_events
        on
            customer_months.customer_id = monthly_order_events.customer_id
            and customer_months.month = monthly_order_events.order_month
),

grouped_sums as (
    select
        customer_id,
        rebuilt_month as month,
        sum(completed_orders) as completed_orders_read,
        sum(net_revenue) as net_revenue_read,
        sum(case when months_before <= 11 then completed_orders end) as completed_orders_last_12_months,
        max(last_reactivation_date_in_month) as last_reactivation_date_read,
        sum(case when months_before <= {{ trend_months - 1 }} then completed_orders end) as orders_recent,
        coalesce(sum(
            case when months_before between {{ trend_months }} and {{ 2 * trend_months - 1 }} then completed_orders end
        ), 0) as orders_previous,
        sum(case when months_before <= {{ trend_months - 1 }} then net_revenue end) as net_revenue_recent,
        coalesce(sum(
            case when months_before between {{ trend_months }} and {{ 2 * trend_months - 1 }} then net_revenue end
        ), 0) as net_revenue_previous,
        sum(case when months_before <= {{ trend_months - 1 }} then returned_orders end) as returns_recent,
        coalesce(sum(
            case when months_before between {{ trend_months }} and {{ 2 * trend_months - 1 }} then returned_orders end
        ), 0) as returns_previous
    from months_up_to_rebuilt
    group by customer_id, rebuilt_month
),

-- The months this run builds (every month on a full build), with the sums of the months
-- before those read.
rebuilt_months as (
    select
        customer_months.customer_id,
        customers.customer_key,
        customer_months.month,
        customer_months.period_end,
        customer_months.completed_orders,
        customer_months.net_revenue,
        customer_months.last_order_date_to_period_end,
        customer_months.is_active,
        customers.first_order_date,
        coalesce(earlier_months.completed_orders, 0) + month_sums.completed_orders_read
            as completed_orders_to_date,
        coalesce(earlier_months.net_revenue, 0) + month_sums.net_revenue_read as net_revenue_to_date,
        month_sums.completed_orders_last_12_months,
        coalesce(
            month_sums.last_reactivation_date_read, earlier_reactivations.last_reactivation_date
        ) as last_reactivation_date,
        month_sums.orders_recent,
        month_sums.orders_previous,
        month_sums.net_revenue_recent,
        month_sums.net_revenue_previous,
        month_sums.returns_recent,
        month_sums.returns_previous
    from (
        select * from windowed_sums
        where month >= {{ rebuild_from }}
        union all
        select * from grouped_sums
    ) as month_sums
    inner join customer_months
        on
            month_sums.customer_id = customer_months.customer_id
            and month_sums.month = customer_months.month
    inner join customers on customer_months.customer_id = customers.customer_id
    left join earlier_months on customer_months.customer_id = earlier_months.customer_id
    left join earlier_reactivations
        on customer_months.customer_id = earlier_reactivations.customer_id
),

measured as (
    select
        rebuilt_months.*,
        cast(
            {{ dbt.datediff('rebuilt_months.last_order_date_to_period_end', 'rebuilt_months.period_end', 'day') }}
            as {{ dbt.type_bigint() }}
        ) as days_since_last_order,
        {{ dbt.datediff('rebuilt_months.first_order_date', 'rebuilt_months.period_end', 'day') }}
            as days_since_first_order,
        case
            when rebuilt_months.completed_orders_to_date >= 2
                then greatest(
                    cast(
                        {{ dbt.datediff('rebuilt_months.first_order_date', 'rebuilt_months.last_order_date_to_period_end', 'day') }}
                        as {{ type_double() }}
                    ) / (rebuilt_months.completed_orders_to_date - 1),
                    1.0
                )
            else population_intervals.population_median_interval_days
        end as typical_interval_days,
        case
            when rebuilt_months.completed_orders_to_date >= 2 then 'own'
            when population_intervals.population_median_interval_days is not null then 'population'
            else 'none'
        end as typical_interval_source,
        case
            when rebuilt_months.orders_recent > 0
                then cast(rebuilt_months.net_revenue_recent as {{ type_double() }}) / rebuilt_months.orders_recent
        end as average_order_value_recent,
        case
            when rebuilt_months.orders_previous > 0
                then cast(rebuilt_months.net_revenue_previous as {{ type_double() }}) / rebuilt_months.orders_previous
        end as average_order_value_previous,
        case
            when rebuilt_months.orders_recent + rebuilt_months.returns_recent > 0
                then
                    cast(rebuilt_months.returns_recent as {{ type_double() }})
                    / (rebuilt_months.orders_recent + rebuilt_months.returns_recent)
        end as return_share_recent,
        case
            when rebuilt_months.orders_previous + rebuilt_months.returns_previous > 0
                then
                    cast(rebuilt_months.returns_previous as {{ type_double() }})
                    / (rebuilt_months.orders_previous + rebuilt_months.returns_previous)
        end as return_share_previous,
        cume_dist() over (
            partition by rebuilt_months.month
            order by rebuilt_months.net_revenue_to_date desc
        ) as value_rank_share,
        reference_dates.reference_date
    from rebuilt_months
    cross join population_intervals
    cross join reference_dates
),

signalled as (
    select
        measured.*,
        cast(measured.days_since_last_order as {{ type_double() }}) / measured.typical_interval_days as gap_ratio,
        coalesce(
            cast(measured.days_since_last_order as {{ type_double() }}) / measured.typical_interval_days
            > {{ setting('lifecycle_lapsing_gap_ratio') }},
            false
        ) as is_gap_overdue,
        measured.orders_recent < measured.orders_previous * {{ 1 - min_change }} as is_frequency_falling,
        coalesce(
            measured.average_order_value_recent
            < measured.average_order_value_previous * {{ 1 - min_change }},
            false
        ) as is_basket_value_falling,
        coalesce(
            measured.return_share_recent > measured.return_share_previous + {{ min_change }},
            false
        ) as is_return_share_rising
    from measured
),

staged as (
    select
        signalled.*,
        case when signalled.is_gap_overdue then 1 else 0 end
        + case when signalled.is_frequency_falling then 1 else 0 end
        + case when signalled.is_basket_value_falling then 1 else 0 end
        + case when signalled.is_return_share_rising then 1 else 0 end as lapsing_signals,
        case
            when not signalled.is_active then 'churned'
            when signalled.days_since_first_order < {{ setting('lifecycle_new_window_days') }} then 'new'
            when
                {{ dbt.datediff('signalled.last_reactivation_date', 'signalled.period_end', 'day') }}
                < {{ setting('lifecycle_new_window_days') }}
                then 'reactivated'
            when
                signalled.is_gap_overdue
                or (
                    case when signalled.is_frequency_falling then 1 else 0 end
                    + case when signalled.is_basket_value_falling then 1 else 0 end
                    + case when signalled.is_return_share_rising then 1 else 0 end
                ) >= 2
                then 'lapsing'
            when
                signalled.completed_orders_last_12_months >= {{ setting('lifecycle_loyal_min_orders') }}
                or signalled.value_rank_share <= {{ setting('lifecycle_loyal_top_value_share') }}
                then 'loyal'
            else 'active'
        end as lifecycle_stage
    from signalled
),

buyer_rows as (
    select
        customer_key,
        month,
        period_end,
        lifecycle_stage,
        completed_orders,
        cast(net_revenue as decimal(18, 2)) as net_revenue,
        cast(completed_orders_to_date as {{ dbt.type_bigint() }}) as completed_orders_to_date,
        cast(net_revenue_to_date as decimal(18, 2)) as net_revenue_to_date,
        cast(completed_orders_last_12_months as {{ dbt.type_bigint() }}) as completed_orders_last_12_months,
        days_since_last_order,
        typical_interval_days,
        typical_interval_source,
        gap_ratio,
        is_gap_overdue,
        cast(orders_recent as {{ dbt.type_bigint() }}) as orders_recent,
        cast(orders_previous as {{ dbt.type_bigint() }}) as orders_previous,
        is_frequency_falling,
        average_order_value_recent,
        average_order_value_previous,
        is_basket_value_falling,
        return_share_recent,
        return_share_previous,
        is_return_share_rising,
        lapsing_signals,
        value_rank_share <= {{ setting('lifecycle_loyal_top_value_share') }} as is_top_value,
        reference_date
    from staged
),

prospect_rows as (
    select
        prospect_months.customer_key,
        prospect_months.month,
        prospect_months.period_end,
        'prospect' as lifecycle_stage,
        0 as completed_orders,
        cast(0 as decimal(18, 2)) as net_revenue,
        0 as completed_orders_to_date,
        cast(0 as decimal(18, 2)) as net_revenue_to_date,
        0 as completed_orders_last_12_months,
        cast(null as {{ dbt.type_bigint() }}) as days_since_last_order,
        cast(null as {{ type_double() }}) as typical_interval_days,
        'none' as typical_interval_source,
        cast(null as {{ type_double() }}) as gap_ratio,
        false as is_gap_overdue,
        0 as orders_recent,
        0 as orders_previous,
        false as is_frequency_falling,
        cast(null as {{ type_double() }}) as average_order_value_recent,
        cast(null as {{ type_double() }}) as average_order_value_previous,
        false as is_basket_value_falling,
        cast(null as {{ type_double() }}) as return_share_recent,
        cast(null as {{ type_double() }}) as return_share_previous,
        false as is_return_share_rising,
        0 as lapsing_signals,
        false as is_top_value,
        reference_dates.reference_date
    from prospect_months
    cross join reference_dates
),

unioned as (
    select * from buyer_rows
    union all
    select * from prospect_rows
),

final as (
    select
        customer_key,
        month,
        period_end,
        {{ is_incomplete_month('month', 'reference_date') }} as is_incomplete_month,
        lifecycle_stage,
        completed_orders,
        net_revenue,
        completed_orders_to_date,
        net_revenue_to_date,
        completed_orders_last_12_months,
        days_since_last_order,
        typical_interval_days,
        typical_interval_source,
        gap_ratio,
        is_gap_overdue,
        orders_recent,
        orders_previous,
        is_frequency_falling,
        average_order_value_recent,
        average_order_value_previous,
        is_basket_value_falling,
        return_share_recent,
        return_share_previous,
        is_return_share_rising,
        lapsing_signals,
        is_top_value
    from unioned
)

select * from final
