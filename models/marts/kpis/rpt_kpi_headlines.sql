{#- The dashboard's KPI tiles: for each headline KPI of rpt_kpis_monthly, its value in the latest
    complete month, the month before, and the change between them. The one place that decides
    which month the headlines show, how month-over-month change is computed and which direction
    of change is good news. -#}
{%- set headline_kpis = [
    {'kpi': 'net_revenue', 'label': 'Net revenue', 'unit': 'EUR', 'good_direction': 'up'},
    {'kpi': 'orders', 'label': 'Orders', 'unit': 'count', 'good_direction': 'up'},
    {'kpi': 'active_customers', 'label': 'Active customers', 'unit': 'count', 'good_direction': 'up'},
    {'kpi': 'average_order_value', 'label': 'Average order value', 'unit': 'EUR', 'good_direction': 'up'},
    {'kpi': 'churn_rate', 'label': 'Churn rate', 'unit': 'share', 'good_direction': 'down'},
    {'kpi': 'nps', 'label': 'NPS', 'unit': 'points', 'good_direction': 'up'},
] -%}
with

kpis_monthly as (
    select
        month,
        is_incomplete_month,
        net_revenue,
        orders,
        active_customers,
        average_order_value,
        churn_rate,
        nps
    from {{ ref('rpt_kpis_monthly') }}
),

headline_month as (
    select max(month) as month
    from kpis_monthly
    where not is_incomplete_month
),

kpi_values as (
    {%- for headline in headline_kpis %}
    select
        {{ loop.index }} as display_order,
        '{{ headline.kpi }}' as kpi,
        '{{ headline.label }}' as kpi_label,
        '{{ headline.unit }}' as unit,
        '{{ headline.good_direction }}' as good_direction,
        month,
        cast({{ headline.kpi }} as double) as kpi_value
    from kpis_monthly
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

headline_changes as (
    select
        current_month.display_order,
        current_month.kpi,
        current_month.kpi_label,
        current_month.unit,
        current_month.good_direction,
        current_month.month,
        current_month.kpi_value as current_value,
        cast({{ dbt.dateadd('month', -1, 'current_month.month') }} as date) as previous_month,
        previous_month.kpi_value as previous_value,
        current_month.kpi_value - previous_month.kpi_value as absolute_change,
        (current_month.kpi_value - previous_month.kpi_value)
        / nullif(abs(previous_month.kpi_value), 0) as relative_change
    from kpi_values as current_month
    inner join headline_month on current_month.month = headline_month.month
    left join kpi_values as previous_month
        on
            current_month.kpi = previous_month.kpi
            and previous_month.month
            = cast({{ dbt.dateadd('month', -1, 'current_month.month') }} as date)
),

final as (
    select
        display_order,
        kpi,
        kpi_label,
        unit,
        good_direction,
        month,
        current_value,
        previous_month,
        previous_value,
        absolute_change,
        relative_change,
        case
            when absolute_change > 0 then good_direction = 'up'
            when absolute_change < 0 then good_direction = 'down'
        end as is_good_change
    from headline_changes
)

select * from final
