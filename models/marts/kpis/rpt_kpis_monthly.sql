{#- One row per month from the first order month through the reference month. Revenue KPIs
    count completed orders (docs/metrics.md has every definition); activity and churn come
    from int_customer_months; NPS from rpt_nps_monthly. -#}
with

orders as (
    select
        order_month,
        customer_id,
        status,
        net_revenue,
        completed_order_number,
        is_first_completed_order
    from {{ ref('int_orders_sequenced') }}
),

customer_months as (
    select
        month,
        is_active,
        was_active_at_previous_period_end,
        has_churned
    from {{ ref('int_customer_months') }}
),

sessions as (
    select
        session_month,
        pageviews
    from {{ ref('int_sessions_stitched') }}
),

email_messages as (
    select
        delivered_month,
        is_opened
    from {{ ref('int_email_messages_rolled_up') }}
    where is_delivered
),

nps_monthly as (
    select
        month,
        nps
    from {{ ref('rpt_nps_monthly') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

bounds as (
    select
        min(orders.order_month) as first_month,
        max(reference_dates.reference_date) as reference_date
    from orders
    cross join reference_dates
),

months as (
    {{ month_series('bounds.first_month', 'bounds.reference_date', 'bounds') }}
),

order_kpis as (
    select
        order_month as month,
        cast(sum(net_revenue) as decimal(18, 2)) as net_revenue,
        count(case when status = 'completed' then 1 end) as orders,
        count(case when status = 'returned' then 1 end) as returned_orders,
        count(distinct case when status = 'completed' then customer_id end) as purchasing_customers,
        count(distinct case when is_first_completed_order then customer_id end) as new_customers,
        count(distinct case when completed_order_number >= 2 then customer_id end) as repeat_customers
    from orders
    group by order_month
),

activity_kpis as (
    select
        month,
        count(case when is_active then 1 end) as active_customers,
        count(case when was_active_at_previous_period_end then 1 end) as previously_active_customers,
        count(case when has_churned then 1 end) as churned_customers
    from customer_months
    group by month
),

session_kpis as (
    select
        session_month as month,
        count(*) as sessions,
        cast(sum(pageviews) as {{ dbt.type_bigint() }}) as pageviews
    from sessions
    group by session_month
),

email_kpis as (
    select
        delivered_month as month,
        count(*) as emails_delivered,
        count(case when is_opened then 1 end) as emails_opened
    from email_messages
    group by delivered_month
),

joined as (
    select
        months.month,
        coalesce(order_kpis.net_revenue, cast(0 as decimal(18, 2))) as net_revenue,
        coalesce(order_kpis.orders, 0) as orders,
        coalesce(order_kpis.returned_orders, 0) as returned_orders,
        coalesce(order_kpis.purchasing_customers, 0) as purchasing_customers,
        coalesce(order_kpis.new_customers, 0) as new_customers,
        coalesce(order_kpis.repeat_customers, 0) as repeat_customers,
        coalesce(activity_kpis.active_customers, 0) as active_customers,
        coalesce(activity_kpis.previously_active_customers, 0) as previously_active_customers,
        coalesce(activity_kpis.churned_customers, 0) as churned_customers,
        coalesce(session_kpis.sessions, 0) as sessions,
        coalesce(session_kpis.pageviews, 0) as pageviews,
        coalesce(email_kpis.emails_delivered, 0) as emails_delivered,
        coalesce(email_kpis.emails_opened, 0) as emails_opened,
        nps_monthly.nps
    from months
    left join order_kpis on months.month = order_kpis.month
    left join activity_kpis on months.month = activity_kpis.month
    left join session_kpis on months.month = session_kpis.month
    left join email_kpis on months.month = email_kpis.month
    left join nps_monthly on months.month = nps_monthly.month
),

final as (
    select
        joined.month,
        joined.net_revenue,
        joined.orders,
        joined.purchasing_customers,
        joined.new_customers,
        joined.purchasing_customers - joined.new_customers as returning_customers,
        joined.repeat_customers,
        cast(joined.net_revenue as {{ type_double() }}) / nullif(joined.orders, 0) as average_order_value,
        cast(joined.orders as {{ type_double() }}) / nullif(joined.purchasing_customers, 0) as purchase_frequency,
        cast(joined.repeat_customers as {{ type_double() }}) / nullif(joined.purchasing_customers, 0) as repeat_customer_rate,
        cast(joined.net_revenue as {{ type_double() }}) / nullif(joined.purchasing_customers, 0) as customer_value,
        joined.returned_orders,
        cast(joined.returned_orders as {{ type_double() }}) / nullif(joined.orders + joined.returned_orders, 0) as return_rate,
        joined.active_customers,
        joined.previously_active_customers,
        joined.churned_customers,
        cast(joined.churned_customers as {{ type_double() }}) / nullif(joined.previously_active_customers, 0) as churn_rate,
        joined.sessions,
        cast(joined.pageviews as {{ type_double() }}) / nullif(joined.sessions, 0) as pageviews_per_session,
        joined.emails_delivered,
        joined.emails_opened,
        cast(joined.emails_opened as {{ type_double() }}) / nullif(joined.emails_delivered, 0) as newsletter_open_rate,
        joined.nps,
        {{ is_incomplete_month('joined.month', 'reference_dates.reference_date') }} as is_incomplete_month
    from joined
    cross join reference_dates
)

select * from final
