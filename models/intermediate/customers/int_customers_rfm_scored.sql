{#- One row per customer with at least one completed order: RFM(E) inputs, scores 1–5 and
    the named segment.

    Inputs (as of the reference date): recency = days since the last completed order;
    frequency = completed orders; monetary = net lifetime revenue; engagement = sessions
    + email opens + var engagement_click_weight × email clicks in the last
    var engagement_window_days days.

    Score of a value among the n scored customers, by its mid-rank percentile: with b the
    customers with a worse value (for recency: more days) and t the customers with the same
    value (itself included), score = 1 + floor(5 × (b + t / 2) / n), in integer arithmetic
    1 + floor(5 × (2b + t) / 2n). Equal values always get equal scores (ties are never split);
    five distinct values score 1…5; a single customer scores 3 (the middle).

    Segment: from seed rfm_segments by recency_score and frequency_monetary_score
    = floor((frequency_score + monetary_score + 1) / 2). -#}
with

customer_orders as (
    select
        customer_id,
        days_since_last_order,
        completed_orders,
        net_lifetime_revenue
    from {{ ref('int_customer_orders_aggregated') }}
    where completed_orders > 0
),

customer_sessions as (
    select
        customer_id,
        recent_sessions
    from {{ ref('int_customer_sessions_aggregated') }}
),

customer_emails as (
    select
        customer_id,
        recent_email_opens,
        recent_email_clicks
    from {{ ref('int_customer_emails_aggregated') }}
),

rfm_segments as (
    select
        recency_score,
        frequency_monetary_score,
        segment_name
    from {{ ref('rfm_segments') }}
),

inputs as (
    select
        customer_orders.customer_id,
        customer_orders.days_since_last_order as recency_days,
        customer_orders.completed_orders as frequency,
        customer_orders.net_lifetime_revenue as monetary,
        coalesce(customer_sessions.recent_sessions, 0)
        + coalesce(customer_emails.recent_email_opens, 0)
        + {{ setting('engagement_click_weight') }} * coalesce(customer_emails.recent_email_clicks, 0)
            as engagement_points
    from customer_orders
    left join customer_sessions on customer_orders.customer_id = customer_sessions.customer_id
    left join customer_emails on customer_orders.customer_id = customer_emails.customer_id
),

counted as (
    select
        *,
        count(*) over () as scored_customers,
        count(*) over (
            order by recency_days desc range between unbounded preceding and current row
        ) as recency_at_or_worse,
        count(*) over (partition by recency_days) as recency_ties,
        count(*) over (
            order by frequency range between unbounded preceding and current row
        ) as frequency_at_or_worse,
        count(*) over (partition by frequency) as frequency_ties,
        count(*) over (
            order by monetary range between unbounded preceding and current row
        ) as monetary_at_or_worse,
        count(*) over (partition by monetary) as monetary_ties,
        count(*) over (
            order by engagement_points range between unbounded preceding and current row
        ) as engagement_at_or_worse,
        count(*) over (partition by engagement_points) as engagement_ties
    from inputs
),

scored as (
    select
        customer_id,
        recency_days,
        frequency,
        monetary,
        engagement_points,
        {%- for dimension in ['recency', 'frequency', 'monetary', 'engagement'] %}
        1 + cast(
            floor(
                cast(5 * (2 * {{ dimension }}_at_or_worse - {{ dimension }}_ties) as {{ type_double() }})
                / (2 * scored_customers)
            ) as {{ dbt.type_int() }}
        ) as {{ dimension }}_score,
        {%- endfor %}
        scored_customers
    from counted
),

combined as (
    select
        *,
        cast(floor((frequency_score + monetary_score + 1) / 2.0) as {{ dbt.type_int() }})
            as frequency_monetary_score
    from scored
),

final as (
    select
        combined.customer_id,
        combined.recency_days,
        combined.frequency,
        combined.monetary,
        combined.engagement_points,
        combined.recency_score,
        combined.frequency_score,
        combined.monetary_score,
        combined.engagement_score,
        combined.frequency_monetary_score,
        {{ dbt.concat([
            dbt.cast('combined.recency_score', dbt.type_string()),
            dbt.cast('combined.frequency_score', dbt.type_string()),
            dbt.cast('combined.monetary_score', dbt.type_string()),
        ]) }} as rfm_score,
        {{ dbt.concat([
            dbt.cast('combined.recency_score', dbt.type_string()),
            dbt.cast('combined.frequency_score', dbt.type_string()),
            dbt.cast('combined.monetary_score', dbt.type_string()),
            dbt.cast('combined.engagement_score', dbt.type_string()),
        ]) }} as rfme_score,
        rfm_segments.segment_name as rfm_segment
    from combined
    left join rfm_segments
        on
            combined.recency_score = rfm_segments.recency_score
            and combined.frequency_monetary_score = rfm_segments.frequency_monetary_score
)

select * from final
