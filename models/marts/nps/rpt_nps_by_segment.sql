{#- One row per (dimension, value): NPS of the responses submitted in the last
    var nps_segment_window_months months up to the reference date, by the responding
    customer's current RFM segment, loyalty membership, acquisition channel and tenure band
    (months since signup at the reference date, seed tenure_bands). Anonymous responses are
    left out. -#}
with

responses as (
    select
        customer_key,
        submitted_date,
        nps_category
    from {{ ref('fct_survey_responses') }}
    where customer_key is not null
),

customers as (
    select
        customer_key,
        signup_date,
        acquisition_channel,
        is_loyalty_member,
        rfm_segment
    from {{ ref('dim_customers') }}
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

tenure_bands as (
    select
        min_tenure_months,
        max_tenure_months,
        tenure_band
    from {{ ref('tenure_bands') }}
),

windowed_responses as (
    select
        responses.customer_key,
        responses.nps_category
    from responses
    cross join reference_dates
    where
        responses.submitted_date
        > {{ dbt.dateadd('month', -setting('nps_segment_window_months'), 'reference_dates.reference_date') }}
        and responses.submitted_date <= reference_dates.reference_date
),

customer_dimensions as (
    select
        customers.customer_key,
        customers.rfm_segment,
        case when customers.is_loyalty_member then 'member' else 'non-member' end as loyalty,
        customers.acquisition_channel,
        tenure_bands.tenure_band
    from customers
    cross join reference_dates
    left join tenure_bands
        on
            {{ month_diff('customers.signup_date', 'reference_dates.reference_date') }}
            between tenure_bands.min_tenure_months and tenure_bands.max_tenure_months
),

responses_with_dimensions as (
    select
        windowed_responses.nps_category,
        customer_dimensions.rfm_segment,
        customer_dimensions.loyalty,
        customer_dimensions.acquisition_channel,
        customer_dimensions.tenure_band
    from windowed_responses
    inner join customer_dimensions
        on windowed_responses.customer_key = customer_dimensions.customer_key
),

unpivoted as (
    {% for dimension in ['rfm_segment', 'loyalty', 'acquisition_channel', 'tenure_band'] -%}
    select
        '{{ dimension }}' as dimension,
        {{ dimension }} as dimension_value,
        nps_category
    from responses_with_dimensions
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

counted as (
    select
        dimension,
        dimension_value,
        count(*) as responses,
        count(case when nps_category = 'promoter' then 1 end) as promoters,
        count(case when nps_category = 'passive' then 1 end) as passives,
        count(case when nps_category = 'detractor' then 1 end) as detractors
    from unpivoted
    group by dimension, dimension_value
),

final as (
    select
        counted.dimension,
        counted.dimension_value,
        counted.responses,
        counted.promoters,
        counted.passives,
        counted.detractors,
        {{ nps_from_counts('counted.promoters', 'counted.detractors', 'counted.responses') }} as nps,
        {{ nps_margin_of_error_95('counted.promoters', 'counted.detractors', 'counted.responses') }}
            as nps_margin_of_error_95,
        cast({{ dbt.dateadd('month', -setting('nps_segment_window_months'), 'reference_dates.reference_date') }} as date)
            as window_start_exclusive,
        reference_dates.reference_date as window_end
    from counted
    cross join reference_dates
)

select * from final
