{#- One row per accepted NPS survey response. -#}
{#- Its rows are base rows, filtered: its scoped data tests read the keys the base model's
    incremental run wrote (macros/incremental/data_test_scope.sql). -#}
{{
    config(
        meta={
            "data_test_scope": {
                "model": "base_nps__survey_responses",
                "key": "coalesce(response_id, '')",
            }
        },
    )
}}
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
