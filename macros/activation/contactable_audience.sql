{#- The members of an audience who may be contacted, with their contact details: the rows of
    `members` (a relation or CTE with customer_key and `columns`) whose customer is contactable
    as of this build (dim_customers.is_contactable: consent given, never unsubscribed) and has
    an email address, as customer_key, email, first_name, `columns`, reference_date. The one
    consent rule every audience applies (docs/privacy.md#audiences). -#}
{% macro contactable_audience(members, columns) -%}
    select
        {{ members }}.customer_key,
        contacts.email,
        contacts.first_name,
        {%- for column in columns %}
        {{ members }}.{{ column }},
        {%- endfor %}
        reference_dates.reference_date
    from {{ members }}
    inner join {{ ref('dim_customers') }} as consents
        on {{ members }}.customer_key = consents.customer_key
    inner join {{ ref('int_customers_contact_details') }} as contacts
        on {{ members }}.customer_key = contacts.customer_key
    cross join {{ ref('stg_shop__reference_date') }} as reference_dates
    where
        consents.is_contactable
        and contacts.email is not null
{%- endmacro %}


{#- The customers whose latest NPS answer is in `category` (detractor or promoter) and was
    given within var audience_nps_recent_days days of the reference date: the members of the
    detractor and promoter audiences, with the answer's score and time. -#}
{% macro recent_nps_answers(category) -%}
    select
        customers.customer_key,
        customers.latest_nps_score,
        customers.latest_nps_response_at
    from {{ ref('dim_customers') }} as customers
    cross join {{ ref('stg_shop__reference_date') }} as reference_dates
    where
        customers.latest_nps_category = '{{ category }}'
        and cast(customers.latest_nps_response_at as date)
        > {{ dbt.dateadd('day', -setting('audience_nps_recent_days'), 'reference_dates.reference_date') }}
{%- endmacro %}
