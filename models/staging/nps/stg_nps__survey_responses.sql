{#- One row per accepted NPS survey response. -#}
with

base_survey_responses as (
    select * from {{ ref('base_nps__survey_responses') }}
),

final as (
    select
        response_id,
        customer_id,
        order_id,
        submitted_at,
        score,
        comment_text,
        survey_channel
    from base_survey_responses
    where rejection_reason is null
)

select * from final
