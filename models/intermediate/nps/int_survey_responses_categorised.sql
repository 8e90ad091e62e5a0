{#- One row per accepted survey response with its NPS category, the one place where the
    bands are applied: promoter 9–10, passive 7–8, detractor 0–6 (bounds are vars). -#}
with

survey_responses as (
    select
        response_id,
        customer_id,
        order_id,
        submitted_at,
        score,
        survey_channel
    from {{ ref('stg_nps__survey_responses') }}
),

final as (
    select
        response_id,
        customer_id,
        order_id,
        submitted_at,
        cast(submitted_at as date) as submitted_date,
        cast({{ dbt.date_trunc('month', 'submitted_at') }} as date) as submitted_month,
        score,
        survey_channel,
        case
            when score >= {{ setting('nps_promoter_min_score') }} then 'promoter'
            when score >= {{ setting('nps_passive_min_score') }} then 'passive'
            else 'detractor'
        end as nps_category
    from survey_responses
)

select * from final
