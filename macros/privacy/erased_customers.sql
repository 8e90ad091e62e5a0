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
    select distinct trimmed as customer_id
    from (
        select regexp_replace(customer_id, '^\\s+|\\s+$', '') as trimmed
        from customer_analytics_erasure_requests
    )
    where trimmed != ''
    {%- endif -%}
{%- endmacro %}


{#- How many customers the erasure requests name. -#}
{% macro erased_customer_count() -%}
    {{ return(run_query('select count(*) from (' ~ erased_customer_ids() ~ ') as erased')
        .columns[0].values()[0]) }}
{%- endmacro %}


{#- Spark: the privacy state a build reads under, as orchestration/lib/privacy.py's
    privacy_state computes it ('key <16 hex>, erasures <16 hex>'): a query of one value, from the
    key file and the erasure requests read at run time (spark_hmac_sha256). -#}
{% macro spark_privacy_state() -%}
    select concat(
        'key ', substr({{ spark_hmac_sha256("encode('customer-analytics key fingerprint', 'UTF-8')") }}, 1, 16),
        ', erasures ', substr({{ spark_hmac_sha256('message') }}, 1, 16)
    )
    from (
        select encode(concat('customer-analytics erasure list',
            concat_ws('', transform(sort_array(collect_set(customer_id)), id -> concat(id, char(0))))
        ), 'UTF-8') as message
        from ({{ erased_customer_ids() }}) as erased
    ) as erasure_list
{%- endmacro %}
