{#- Loyalty and referral programme effects: associations, not causal effects. One row per
    (programme, metric): loyalty members vs non-members (average order value, purchase
    frequency, 12-month retention, net lifetime revenue) and referred vs non-referred customers
    (net lifetime revenue, churn rate). Each comparison is stratified by signup month (cohort),
    so that tenure does not masquerade as a programme effect: per stratum the mean and sample
    variance of each group; strata with fewer than two customers in either group are left
    out; the adjusted group means weight every stratum by its customers (sums as exact decimals,
    so that every build gives the same numbers). The difference gets
    a Welch (unequal-variance) standard error and a normal 95 % interval; the ratio an interval
    from the delta method on the log scale. docs/lifecycle.md, "Programme effects". -#}
{%- set z_95 = 1.959964 -%}
{%- set comparisons = [
    ('loyalty', 'is_loyalty_member', 'average_order_value', 'EUR per order',
        'customers with a completed order; their own average net order value'),
    ('loyalty', 'is_loyalty_member', 'purchase_frequency', 'completed orders per year',
        'customers whose first completed order is at least var programme_min_tenure_days days old'),
    ('loyalty', 'is_loyalty_member', 'retention_12_months', 'share of customers',
        'customers whose first completed order is at least var programme_min_tenure_days days old; '
        ~ 'retained: a second completed order within 365 days of the first'),
    ('loyalty', 'is_loyalty_member', 'net_lifetime_revenue', 'EUR per customer', 'all customers'),
    ('referral', 'is_referred', 'net_lifetime_revenue', 'EUR per customer', 'all customers'),
    ('referral', 'is_referred', 'churn_rate', 'share of customers',
        'customers whose first completed order is at least var programme_min_tenure_days days old; '
        ~ 'churned: no completed order in the last var churn_window_days days'),
] -%}
with

customers as (
    select
        customer_key,
        signup_date,
        is_loyalty_member,
        is_referred,
        first_order_date,
        completed_orders,
        net_lifetime_revenue,
        average_order_value,
        days_since_last_order
    from {{ ref('dim_customers') }}
),

second_orders as (
    select
        customer_key,
        order_date as second_order_date
    from {{ ref('fct_orders') }}
    where completed_order_number = 2
),

reference_dates as (
    select reference_date from {{ ref('stg_shop__reference_date') }}
),

tenured as (
    select
        customers.*,
        cast({{ dbt.date_trunc('month', 'customers.signup_date') }} as date) as cohort_month,
        {{ dbt.datediff('customers.first_order_date', 'reference_dates.reference_date', 'day') }}
            as days_since_first_order,
        coalesce(
            {{ dbt.datediff('customers.first_order_date', 'reference_dates.reference_date', 'day') }}
            >= {{ setting('programme_min_tenure_days') }},
            false
        ) as is_tenured,
        {{ dbt.datediff('customers.first_order_date', 'second_orders.second_order_date', 'day') }}
            as days_to_second_order
    from customers
    cross join reference_dates
    left join second_orders on customers.customer_key = second_orders.customer_key
),

customer_outcomes as (
    select
        customer_key,
        cohort_month,
        is_loyalty_member,
        is_referred,
        case when completed_orders > 0 then cast(average_order_value as {{ type_double() }}) end
            as average_order_value,
        case
            when is_tenured then cast(completed_orders * 365 as {{ type_double() }}) / days_since_first_order
        end as purchase_frequency,
        case
            when is_tenured then case when days_to_second_order <= 365 then 1.0 else 0.0 end
        end as retention_12_months,
        cast(net_lifetime_revenue as {{ type_double() }}) as net_lifetime_revenue,
        case
            when is_tenured
                then case when days_since_last_order >= {{ setting('churn_window_days') }} then 1.0 else 0.0 end
        end as churn_rate
    from tenured
),

measurements as (
    {% for programme, flag, metric, unit, population in comparisons -%}
    select
        '{{ programme }}' as programme,
        '{{ metric }}' as metric,
        cohort_month,
        {{ flag }} as is_in_programme,
        cast({{ metric }} as {{ type_double() }}) as outcome
    from customer_outcomes
    where {{ metric }} is not null
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

-- Sums and sums of squares per stratum and group, as exact decimals (outcomes to 6 decimal
-- places): a sum of doubles depends on the order in which threads add them, and the mart must
-- be the same on every build.
strata as (
    select
        programme,
        metric,
        cohort_month,
        count(case when is_in_programme then 1 end) as programme_customers,
        sum(case when is_in_programme then cast(outcome as decimal(38, 6)) end) as programme_sum,
        sum(
            case when is_in_programme then cast(outcome * outcome as decimal(38, 6)) end
        ) as programme_sum_of_squares,
        count(case when not is_in_programme then 1 end) as comparison_customers,
        sum(case when not is_in_programme then cast(outcome as decimal(38, 6)) end) as comparison_sum,
        sum(
            case when not is_in_programme then cast(outcome * outcome as decimal(38, 6)) end
        ) as comparison_sum_of_squares
    from measurements
    group by programme, metric, cohort_month
),

usable_strata as (
    select
        programme,
        metric,
        cohort_month,
        programme_customers,
        comparison_customers,
        cast(programme_sum as {{ type_double() }}) / programme_customers as programme_mean,
        greatest(
            (
                cast(programme_sum_of_squares as {{ type_double() }})
                - cast(programme_sum as {{ type_double() }}) * cast(programme_sum as {{ type_double() }})
                / programme_customers
            ) / (programme_customers - 1),
            0
        ) as programme_variance,
        cast(comparison_sum as {{ type_double() }}) / comparison_customers as comparison_mean,
        greatest(
            (
                cast(comparison_sum_of_squares as {{ type_double() }})
                - cast(comparison_sum as {{ type_double() }}) * cast(comparison_sum as {{ type_double() }})
                / comparison_customers
            ) / (comparison_customers - 1),
            0
        ) as comparison_variance,
        cast(programme_customers + comparison_customers as {{ type_double() }})
        / sum(programme_customers + comparison_customers) over (partition by programme, metric)
            as stratum_weight
    from strata
    where programme_customers >= 2 and comparison_customers >= 2
),

-- The weighted sums over strata, as exact decimals for the same reason.
adjusted as (
    select
        programme,
        metric,
        count(*) as strata,
        sum(programme_customers) as programme_customers,
        sum(comparison_customers) as comparison_customers,
        cast(sum(cast(stratum_weight * programme_mean as decimal(38, 12))) as {{ type_double() }})
            as programme_value,
        cast(sum(cast(stratum_weight * comparison_mean as decimal(38, 12))) as {{ type_double() }})
            as comparison_value,
        cast(sum(
            cast(stratum_weight * stratum_weight * programme_variance / programme_customers as decimal(38, 18))
        ) as {{ type_double() }}) as programme_value_variance,
        cast(sum(
            cast(stratum_weight * stratum_weight * comparison_variance / comparison_customers as decimal(38, 18))
        ) as {{ type_double() }}) as comparison_value_variance
    from usable_strata
    group by programme, metric
),

described as (
    {% for programme, flag, metric, unit, population in comparisons -%}
    select
        '{{ programme }}' as programme,
        '{{ metric }}' as metric,
        {{ loop.index }} as metric_order,
        '{{ unit }}' as unit,
        '{{ population }}' as population
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

compared as (
    select
        described.programme,
        described.metric,
        described.metric_order,
        described.unit,
        described.population,
        cast(coalesce(adjusted.strata, 0) as {{ dbt.type_bigint() }}) as strata,
        cast(coalesce(adjusted.programme_customers, 0) as {{ dbt.type_bigint() }}) as programme_customers,
        cast(coalesce(adjusted.comparison_customers, 0) as {{ dbt.type_bigint() }}) as comparison_customers,
        adjusted.programme_value,
        adjusted.comparison_value,
        adjusted.programme_value - adjusted.comparison_value as difference,
        sqrt(adjusted.programme_value_variance + adjusted.comparison_value_variance)
            as difference_standard_error,
        case
            when adjusted.programme_value > 0 and adjusted.comparison_value > 0
                then adjusted.programme_value / adjusted.comparison_value
        end as ratio,
        case
            when adjusted.programme_value > 0 and adjusted.comparison_value > 0
                then sqrt(
                    adjusted.programme_value_variance
                    / (adjusted.programme_value * adjusted.programme_value)
                    + adjusted.comparison_value_variance
                    / (adjusted.comparison_value * adjusted.comparison_value)
                )
        end as log_ratio_standard_error
    from described
    left join adjusted
        on
            described.programme = adjusted.programme
            and described.metric = adjusted.metric
),

final as (
    select
        programme,
        metric,
        metric_order,
        unit,
        population,
        strata,
        programme_customers,
        comparison_customers,
        programme_value,
        comparison_value,
        difference,
        difference - {{ z_95 }} * difference_standard_error as difference_ci_lower_95,
        difference + {{ z_95 }} * difference_standard_error as difference_ci_upper_95,
        ratio,
        ratio * exp(-{{ z_95 }} * log_ratio_standard_error) as ratio_ci_lower_95,
        ratio * exp({{ z_95 }} * log_ratio_standard_error) as ratio_ci_upper_95,
        'signup-month strata weighted by customers; Welch standard error, normal 95 % interval; ratio interval by the delta method on the log scale'
            as estimation_method
    from compared
)

select * from final
