{#- Post-hooks of the base models of the event tables (sessions, email events): the retention
    window. Rows whose `timestamp_column` lies more than var event_retention_days days before
    the reference date are deleted from the raw table `raw_model` (matched by `key`) and from
    this model, so they leave the warehouse and, through the incremental models' deletions of
    rows no longer in staging, every mart (docs/privacy.md#retention). Rows without a readable
    timestamp, and quarantined rows, stay: the quarantine keeps a bad row until it is fixed. -#}
{% macro remove_expired_events(timestamp_column, raw_model, key) -%}
    {{ return(adapter.dispatch('remove_expired_events', 'customer_analytics')(
        timestamp_column, raw_model, key)) }}
{%- endmacro %}


{#- The rows of this model that the retention window removes, as a condition. -#}
{% macro expired_event_condition(timestamp_column) -%}
    {%- set cutoff -%}
        (
            select {{ dbt.dateadd('day', -setting('event_retention_days'), 'reference_date') }}
            from {{ ref('stg_shop__reference_date') }}
        )
    {%- endset -%}
    {{ return('rejection_reason is null and ' ~ timestamp_column ~ ' < ' ~ cutoff) }}
{%- endmacro %}


{% macro duckdb__remove_expired_events(timestamp_column, raw_model, key) -%}
    {%- set cutoff -%}
        (
            select {{ dbt.dateadd('day', -setting('event_retention_days'), 'reference_date') }}
            from {{ ref('stg_shop__reference_date') }}
        )
    {%- endset -%}
    {%- set hooks = [
        'delete from ' ~ ref(raw_model) ~ ' where trim(' ~ key ~ ') in (select ' ~ key
            ~ ' from ' ~ this ~ ' where rejection_reason is null and ' ~ timestamp_column
            ~ ' < ' ~ cutoff ~ ')',
        'delete from ' ~ this ~ ' where rejection_reason is null and ' ~ timestamp_column
            ~ ' < ' ~ cutoff,
    ] -%}
    {{ return(hooks | join(';\n')) }}
{%- endmacro %}


{#- Spark: the same rows removed by writing both tables again without them
    (spark_rewrite_table; parquet takes no DELETE). A row whose condition is null stays, as
    with DELETE. -#}
{% macro spark__remove_expired_events(timestamp_column, raw_model, key) -%}
    {%- if execute -%}
        {%- set expired = expired_event_condition(timestamp_column) -%}
        {%- do spark_rewrite_table(ref(raw_model), 'select * from ' ~ ref(raw_model)
            ~ ' where not coalesce(trim(' ~ key ~ ') in (select ' ~ key ~ ' from ' ~ this
            ~ ' where ' ~ expired ~ '), false)') -%}
        {%- do spark_rewrite_table(this, 'select * from ' ~ this ~ ' where not coalesce('
            ~ expired ~ ', false)') -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
