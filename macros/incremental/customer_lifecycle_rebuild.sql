{#- rpt_customer_lifecycle, incremental (docs/incremental.md, "Incremental aggregates"). A row
    (customer, month) depends on the customer's months up to it, and, through the value rank
    (cume_dist of net revenue to date within the month), on every customer's row of the same
    month. So a run rebuilds every row from a month M on, for every customer, where M is the
    earliest month whose inputs changed, and keeps the rows before M: they are the rows a full
    build gives again.

    The inputs are fingerprinted per month (staging.customer_lifecycle_inputs, recorded after
    each build): the orders of each order month (every column the model reads of
    int_orders_sequenced), the customers by signup month (pseudonym, signup date: a customer's
    prospect rows start there), the customers by the month of their first completed order (a
    prospect's first order changes their rows from that month on, not before) and the
    population median interval. M is the earliest of
    the previous reference month (the latest month held), the new reference month and every
    month whose fingerprint differs, both ways (a month that gained, lost or changed an order
    or a customer). Another population median interval (it is the typical interval of every
    customer with fewer than two orders, in every month), or no record, rebuilds every row.
    Settings, seeds, the pseudonymisation key and raw sources are checked by
    should_full_refresh, as for every incremental model. -#}


{#- The customers rpt_customer_lifecycle reads (its CTE customers), also what their
    fingerprints below are taken of: CRM key, pseudonym, signup and first order date. -#}
{% macro customer_lifecycle_customers() -%}
    select
        customer_keys.customer_id,
        dim_customers.customer_key,
        dim_customers.signup_date,
        dim_customers.first_order_date
    from {{ ref('dim_customers') }} as dim_customers
    inner join {{ ref('int_customers_pseudonymised') }} as customer_keys
        on dim_customers.customer_key = customer_keys.customer_key
{%- endmacro %}


{#- The fingerprints of the model's inputs as they are now: rows (input, month, fingerprint). -#}
{% macro customer_lifecycle_input_fingerprints() -%}
    with

    customers as (
        {{ customer_lifecycle_customers() }}
    )

    select
        'orders' as input,
        order_month as month,
        {{ row_set_fingerprint('customer_id, order_id, order_date, order_month, status, is_completed, net_revenue, days_since_previous_completed_order') }}
            as fingerprint
    from {{ ref('int_orders_sequenced') }}
    group by order_month

    union all

    select
        'signups' as input,
        cast({{ dbt.date_trunc('month', 'signup_date') }} as date) as month,
        {{ row_set_fingerprint('customer_id, customer_key, signup_date') }} as fingerprint
    from customers
    group by 2

    union all

    select
        'first_orders' as input,
        cast({{ dbt.date_trunc('month', 'first_order_date') }} as date) as month,
        {{ row_set_fingerprint('customer_id, first_order_date') }} as fingerprint
    from customers
    where first_order_date is not null
    group by 2

    union all

    select
        'population_median' as input,
        cast(null as date) as month,
        cast(max(population_median_interval_days) as {{ dbt.type_string() }}) as fingerprint
    from {{ ref('int_customers_replenishment_estimated') }}
{%- endmacro %}


{#- An order-independent fingerprint of a set of distinct rows (the columns `columns`): the
    XOR of the rows' hashes, and their number. -#}
{% macro row_set_fingerprint(columns) -%}
    cast(bit_xor(hash({{ columns }})) as {{ dbt.type_string() }}) || '/' || cast(count(*) as {{ dbt.type_string() }})
{%- endmacro %}


{#- staging.customer_lifecycle_inputs: the fingerprints rpt_customer_lifecycle was last built
    from; staging.customer_lifecycle_rebuild: the same now, and the first month (input
    'rebuild_from') an incremental run rebuilds (written by the pre-hook, read by the model,
    dropped by the post-hook). -#}
{% macro customer_lifecycle_state_relation(name='customer_lifecycle_inputs', create=false) -%}
    {{ return(raw_state_relation(name, 'input varchar, month date, fingerprint varchar',
        create=create)) }}
{%- endmacro %}


{#- The first month an incremental run of rpt_customer_lifecycle rebuilds, as a scalar
    subquery (written by its pre-hook). -#}
{% macro customer_lifecycle_rebuild_from() -%}
    (
        select rebuild.month
        from {{ adapter.quote(generate_schema_name('staging', none)) }}.customer_lifecycle_rebuild as rebuild
        where rebuild.input = 'rebuild_from'
    )
{%- endmacro %}


{#- Pre-hook of rpt_customer_lifecycle: on an incremental run, fingerprint the inputs, decide
    the first month to rebuild (see above) and delete the rows from it on. Also on a full
    build, it empties what an earlier run that failed may have left. -#}
{% macro delete_customer_lifecycle_to_rebuild() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set now = customer_lifecycle_state_relation('customer_lifecycle_rebuild') -%}
    {#- a run that failed after its pre-hook (outside a transaction) may have deleted the rows
        from its first month on -#}
    {%- set left = run_query('select max(month) from ' ~ now
        ~ " where input = 'rebuild_from'").columns[0].values()[0] -%}
    {%- do run_query('delete from ' ~ now) -%}
    {%- if not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set held = customer_lifecycle_state_relation() -%}
    {%- do run_query('insert into ' ~ now ~ ' ' ~ customer_lifecycle_input_fingerprints()) -%}
    {%- set reference_month -%}
        cast({{ dbt.date_trunc('month', '(select reference_date from ' ~ ref('stg_shop__reference_date') ~ ')') }} as date)
    {%- endset -%}
    {%- set left_from = "cast('" ~ left ~ "' as date)" if left is not none else reference_month -%}
    {%- set decide -%}
        insert into {{ now }}
        with

        differing as (
            (
                select input, month, fingerprint from {{ now }}
                except
                select input, month, fingerprint from {{ held }}
            )
            union all
            (
                select input, month, fingerprint from {{ held }}
                except
                select input, month, fingerprint from {{ now }}
            )
        )

        select
            'rebuild_from' as input,
            case
                when
                    not exists (select 1 from {{ held }})
                    or exists (select 1 from differing where input = 'population_median')
                    then cast('0001-01-01' as date)
                else least(
                    {{ reference_month }},
                    {{ left_from }},
                    coalesce((select max(month) from {{ this }}), {{ reference_month }}),
                    coalesce((select min(month) from differing), {{ reference_month }})
                )
            end as month,
            cast(null as {{ dbt.type_string() }}) as fingerprint
    {%- endset -%}
    {%- do run_query(decide) -%}
    delete from {{ this }} where month >= {{ customer_lifecycle_rebuild_from() }}
{%- endmacro %}


{#- Post-hook of rpt_customer_lifecycle: record the fingerprints it was built from (the
    pre-hook's on an incremental run, fresh ones on a full build). -#}
{% macro record_customer_lifecycle_inputs() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set held = customer_lifecycle_state_relation() -%}
    {%- set now = customer_lifecycle_state_relation('customer_lifecycle_rebuild') -%}
    {%- set incremental = run_query('select count(*) from ' ~ now
        ~ " where input = 'rebuild_from'").columns[0].values()[0] > 0 -%}
    {%- do run_query('delete from ' ~ held) -%}
    {%- if incremental -%}
        {%- do run_query('insert into ' ~ held ~ ' select * from ' ~ now
            ~ " where input <> 'rebuild_from'") -%}
    {%- else -%}
        {%- do run_query('insert into ' ~ held ~ ' ' ~ customer_lifecycle_input_fingerprints()) -%}
    {%- endif -%}
    {%- do run_query('drop table ' ~ now) -%}
    select 1
{%- endmacro %}
