{#- One row per month from the first response month through the reference month, months
    without responses included: responses, promoters (score ≥ var nps_promoter_min_score,
    default 9–10), passives (7–8), detractors (0–6), NPS and its 95 % margin of error. -#}
with

responses as (
    select
        submitted_month,
        nps_category
    from {{ ref('int_survey_responses_categorised') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

bounds as (
    select
        min(responses.submitted_month) as first_month,
        max(reference_dates.reference_date) as reference_date
    from responses
    cross join reference_dates
),

months as (
    {{ month_series('bounds.first_month', 'bounds.reference_date', 'bounds') }}
),

monthly as (
    select
        submitted_month,
        count(*) as responses,
        count(case when nps_category = 'promoter' then 1 end) as promoters,
        count(case when nps_category = 'passive' then 1 end) as passives,
        count(case when nps_category = 'detractor' then 1 end) as detractors
    from responses
    group by submitted_month
),

filled as (
    select
        months.month,
        coalesce(monthly.responses, 0) as responses,
        coalesce(monthly.promoters, 0) as promoters,
        coalesce(monthly.passives, 0) as passives,
        coalesce(monthly.detractors, 0) as detractors
    from months
    left join monthly on months.month = monthly.submitted_month
),

final as (
    select
        filled.month,
        filled.responses,
        filled.promoters,
        filled.passives,
        filled.detractors,
        {{ nps_from_counts('filled.promoters', 'filled.detractors', 'filled.responses') }} as nps,
        {{ nps_margin_of_error_95('filled.promoters', 'filled.detractors', 'filled.responses') }}
            as nps_margin_of_error_95,
        {{ is_incomplete_month('filled.month', 'reference_dates.reference_date') }} as is_incomplete_month
    from filled
    cross join reference_dates
)

select * from final
