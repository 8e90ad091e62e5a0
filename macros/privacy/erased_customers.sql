{#- The customer ids of the erasure requests (docs/privacy.md), read at run time, never
    written into SQL text: a query of one column, customer_id. On DuckDB the project's dbt
    plugin reads them (orchestration/dbt_plugin.py, which also validates the file); on Spark,
    Spark reads the erasure requests file itself (privacy_file). -#}
{% macro erased_customer_ids() -%}
    {{ return(adapter.dispatch('erased_customer_ids', 'customer_analytics')()) }}
{%- endmacro %}

{% macro duckdb__erased_customer_ids() -%}
    select unnest(customer_analytics_erased_ids()) as customer_id
{%- endmacro %}

{% macro spark__erased_customer_ids() -%}
    {%- set file = privacy_file('erasure') -%}
    {%- if not spark_files_exist([file]) -%}
    select cast(null as string) as customer_id where 1 = 0
    {%- else -%}
    {%- do run_query('create or replace temporary view customer_analytics_erasure_requests'
        ~ ' (customer_id string, requested_on string) using csv options (path '
        ~ sql_string(hadoop_literal_glob(file)) ~ ", header 'true', encoding 'UTF-8')") -%}
    select distinct trim(customer_id) as customer_id
    from customer_analytics_erasure_requests
    where nullif(trim(customer_id), '') is not null
    {%- endif -%}
{%- endmacro %}


{#- How many customers the erasure requests name. -#}
{% macro erased_customer_count() -%}
    {{ return(run_query('select count(*) from (' ~ erased_customer_ids() ~ ') as erased')
        .columns[0].values()[0]) }}
{%- endmacro %}
