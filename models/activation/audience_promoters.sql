{#- Review and referral asks: contactable customers whose latest NPS answer was a promoter's
    (9-10), given within var audience_nps_recent_days days of the reference date. -#}
with

members as (
    select
        customers.customer_key,
        customers.latest_nps_score,
        customers.latest_nps_response_at
    from {{ ref('dim_customers') }} as customers
    cross join {{ ref('stg_shop__reference_date') }} as reference_dates
    where
        customers.latest_nps_category = 'promoter'
        and cast(customers.latest_nps_response_at as date)
        > {{ dbt.dateadd('day', -setting('audience_nps_recent_days'), 'reference_dates.reference_date') }}
),

final as (
    {{ contactable_audience('members', ['latest_nps_score', 'latest_nps_response_at']) }}
)

select * from final
