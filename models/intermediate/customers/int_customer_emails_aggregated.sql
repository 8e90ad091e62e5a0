{#- One row per customer with at least one email message: delivery, opens, clicks. Rates
    are per delivered message (unique opens / delivered, unique clicks / delivered). -#}
with

messages as (
    select
        customer_id,
        delivered_at,
        first_opened_at,
        first_clicked_at,
        unsubscribed_at,
        is_delivered,
        is_opened,
        is_clicked
    from {{ ref('int_email_messages_rolled_up') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

windowed as (
    select
        messages.*,
        {{ dbt.dateadd('day', -setting('engagement_window_days'), 'reference_dates.reference_date') }}
            as window_start,
        reference_dates.reference_date
    from messages
    cross join reference_dates
),

final as (
    select
        customer_id,
        count(case when is_delivered then 1 end) as emails_delivered,
        count(case when is_opened then 1 end) as emails_opened,
        count(case when is_clicked then 1 end) as emails_clicked,
        case
            when count(case when is_delivered then 1 end) > 0
                then
                    cast(count(case when is_opened then 1 end) as {{ type_double() }})
                    / count(case when is_delivered then 1 end)
        end as email_open_rate,
        case
            when count(case when is_delivered then 1 end) > 0
                then
                    cast(count(case when is_clicked then 1 end) as {{ type_double() }})
                    / count(case when is_delivered then 1 end)
        end as email_click_rate,
        max(case when unsubscribed_at is not null then 1 else 0 end) = 1 as has_unsubscribed,
        count(
            case
                when
                    cast(first_opened_at as date) > window_start
                    and cast(first_opened_at as date) <= reference_date
                    then 1
            end
        ) as recent_email_opens,
        count(
            case
                when
                    cast(first_clicked_at as date) > window_start
                    and cast(first_clicked_at as date) <= reference_date
                    then 1
            end
        ) as recent_email_clicks
    from windowed
    group by customer_id
)

select * from final
