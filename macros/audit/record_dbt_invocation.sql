{#- on-run-start (after validate_settings): note that this dbt invocation has started, in the
    build file's restricted schema audit (created if missing, with the table
    record_dbt_results fills at the end of the run). An invocation that never reaches its
    on-run-end (killed, crashed) stays without completed_at, and the build is then not
    published (orchestration/lib/publish_guard.py). A no-op on the read-only serving target. -#}
{% macro record_dbt_invocation() -%}
    {%- if not execute or target.name == 'serving' -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(adapter.dispatch('record_dbt_invocation', 'customer_analytics')()) }}
{%- endmacro %}

{% macro duckdb__record_dbt_invocation() -%}
    {%- set schema = adapter.quote(generate_schema_name('audit', none)) -%}
    create schema if not exists {{ schema }};
    create table if not exists {{ schema }}.dbt_invocations (
        invocation_id varchar,
        command varchar,
        started_at {{ dbt.type_timestamp() }},
        completed_at {{ dbt.type_timestamp() }}
    );
    create table if not exists {{ schema }}.dbt_node_results (
        unique_id varchar,
        resource_type varchar,
        status varchar,
        invocation_id varchar,
        completed_at {{ dbt.type_timestamp() }},
        tested_models varchar,
        relation_name varchar
    );
    insert into {{ schema }}.dbt_invocations values (
        {{ sql_string(invocation_id) }},
        {{ sql_string(flags.WHICH) }},
        cast({{ sql_string(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')) }} as {{ dbt.type_timestamp() }}),
        null
    )
{%- endmacro %}


{#- Spark: the same tables (parquet), each statement on its own (Spark runs one at a time). -#}
{% macro spark__record_dbt_invocation() -%}
    {%- set schema = adapter.quote(generate_schema_name('audit', none)) -%}
    {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- do run_query('create table if not exists ' ~ schema ~ '.dbt_invocations (invocation_id string,'
        ~ ' command string, started_at timestamp, completed_at timestamp) using parquet') -%}
    {%- do run_query('create table if not exists ' ~ schema ~ '.dbt_node_results (unique_id string,'
        ~ ' resource_type string, status string, invocation_id string, completed_at timestamp,'
        ~ ' tested_models string, relation_name string) using parquet') -%}
    insert into {{ schema }}.dbt_invocations values (
        {{ sql_string(invocation_id) }},
        {{ sql_string(flags.WHICH) }},
        cast({{ sql_string(run_started_at.strftime('%Y-%m-%d %H:%M:%S.%f')) }} as timestamp),
        null
    )
{%- endmacro %}
