{#- One row per RFM segment of seed rfm_segments, plus 'No Purchase' (customers without a
    completed order), segments without customers included: customers, share of customers,
    net lifetime revenue and its share, average R/F/M/E scores, and the segment's NPS from
    rpt_nps_by_segment (same window). -#}
with

customers as (
    select
        customer_key,
        rfm_segment,
        net_lifetime_revenue,
        recency_score,
        frequency_score,
        monetary_score,
        engagement_score,
        latest_nps_score
    from {{ ref('dim_customers') }}
),

segment_names as (
    select distinct segment_name as rfm_segment from {{ ref('rfm_segments') }}
    union all
    select 'No Purchase' as rfm_segment
),

segment_nps as (
    select
        dimension_value as rfm_segment,
        responses as nps_responses,
        nps
    from {{ ref('rpt_nps_by_segment') }}
    where dimension = 'rfm_segment'
),

totals as (
    select
        count(*) as all_customers,
        sum(net_lifetime_revenue) as all_net_revenue
    from customers
),

by_segment as (
    select
        rfm_segment,
        count(*) as customers,
        sum(net_lifetime_revenue) as net_revenue,
        avg(recency_score) as average_recency_score,
        avg(frequency_score) as average_frequency_score,
        avg(monetary_score) as average_monetary_score,
        avg(engagement_score) as average_engagement_score,
        avg(latest_nps_score) as average_latest_nps_score
    from customers
    group by rfm_segment
),

final as (
    select
        segment_names.rfm_segment,
        coalesce(by_segment.customers, 0) as customers,
        cast(coalesce(by_segment.customers, 0) as {{ type_double() }}) / nullif(totals.all_customers, 0) as share_of_customers,
        cast(coalesce(by_segment.net_revenue, 0) as decimal(18, 2)) as net_revenue,
        cast(coalesce(by_segment.net_revenue, 0) as {{ type_double() }}) / nullif(totals.all_net_revenue, 0) as share_of_net_revenue,
        by_segment.average_recency_score,
        by_segment.average_frequency_score,
        by_segment.average_monetary_score,
        by_segment.average_engagement_score,
        by_segment.average_latest_nps_score,
        coalesce(segment_nps.nps_responses, 0) as nps_responses,
        segment_nps.nps
    from segment_names
    cross join totals
    left join by_segment on segment_names.rfm_segment = by_segment.rfm_segment
    left join segment_nps on segment_names.rfm_segment = segment_nps.rfm_segment
)

select * from final
