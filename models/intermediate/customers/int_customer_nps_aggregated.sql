{#- One row per customer with at least one survey response: how many, and the latest score
    and category (latest by submitted_at, then response_id). -#}
with

responses as (
    select
        response_id,
        customer_id,
        submitted_at,
        score,
        nps_category
    from {{ ref('int_survey_responses_categorised') }}
    where customer_id is not null
),

ranked as (
    select
        *,
        row_number() over (
            partition by customer_id order by submitted_at desc, response_id desc
        ) as recency_rank,
        count(*) over (partition by customer_id) as nps_responses
    from responses
),

final as (
    select
        customer_id,
        nps_responses,
        score as latest_nps_score,
        nps_category as latest_nps_category,
        submitted_at as latest_nps_response_at
    from ranked
    where recency_rank = 1
)

select * from final
