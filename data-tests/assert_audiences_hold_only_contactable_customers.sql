-- Every member of every audience may be contacted as of this build (dim_customers.is_contactable:
-- marketing consent in the CRM, never unsubscribed). A row here is a customer an audience would
-- have exported without consent: fix the audience's model (models/activation/). In Dagster it is
-- a check of dim_customers, whose is_contactable it enforces.
{{ config(meta={'dagster': {'ref': {'name': 'dim_customers'}}}) }}
{%- set audiences = ['audience_champions', 'audience_win_back', 'audience_replenishment_due',
    'audience_detractors', 'audience_promoters', 'audience_second_order'] %}
with

members as (
    {% for audience in audiences -%}
    select
        '{{ audience }}' as audience,
        customer_key
    from {{ ref(audience) }}
    {% if not loop.last -%}
    union all
    {% endif -%}
    {% endfor -%}
),

customers as (
    select
        customer_key,
        is_contactable
    from {{ ref('dim_customers') }}
)

select
    members.audience,
    members.customer_key
from members
left join customers on members.customer_key = customers.customer_key
where not coalesce(customers.is_contactable, false)
