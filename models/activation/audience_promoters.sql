{#- Review and referral asks: contactable customers whose latest NPS answer was a promoter's
    (9-10), given within var audience_nps_recent_days days of the reference date. -#}
with

members as (
    {{ recent_nps_answers('promoter') }}
),

final as (
    {{ contactable_audience('members', ['latest_nps_score', 'latest_nps_response_at']) }}
)

select * from final
