{#- Post-hooks of the base models of the event tables (sessions, email events): the retention
    window. Rows whose `timestamp_column` lies more than var event_retention_days days before
    the reference date are deleted from the raw table `raw_model` (matched by `key`) and from
    this model, so they leave the warehouse and, through the incremental models' deletions of
    rows no longer in staging, every mart (docs/privacy.md#retention). Rows without a readable
    timestamp, and rows quarantined for a defect of their own, stay: the quarantine keeps a bad
    row until it is fixed (expired_event_condition).
    On DuckDB, where daily runs read only new files, each deleted raw row's key, file and
    timestamp are first written to staging.raw_expired_rows, so that a later run can land the
    row again from its file (land_expired_rows_again): when the reference date moves back, or
    a copy of the key arrives. -#}
{% macro remove_expired_events(timestamp_column, raw_model, key) -%}
    {{ return(adapter.dispatch('remove_expired_events', 'customer_analytics')(
        timestamp_column, raw_model, key)) }}
{%- endmacro %}


{#- The oldest moment the retention window keeps, as a scalar subquery. -#}
{% macro event_retention_cutoff() -%}
    {%- set cutoff -%}
        (
            select {{ dbt.dateadd('day', -setting('event_retention_days'), 'reference_date') }}
            from {{ ref('stg_shop__reference_date') }}
        )
    {%- endset -%}
    {{ return(cutoff) }}
{%- endmacro %}


{#- The rows of this model that the retention window removes, as a condition: those dated
    before its cutoff without a defect of their own, accepted or quarantined only for want of
    their customer or order (judged against the other tables, which change; a row once expired
    is gone, so its judgement must not depend on them). A row with a defect of its own, or a
    conflicting copy, stays in the quarantine until it is fixed. -#}
{% macro expired_event_condition(timestamp_column) -%}
    {{ return("(rejection_reason is null or rejection_reason in ('"
        ~ rejection_reasons_judged_against_others() | join("', '") ~ "')) and "
        ~ timestamp_column ~ ' < ' ~ event_retention_cutoff()) }}
{%- endmacro %}


{% macro duckdb__remove_expired_events(timestamp_column, raw_model, key) -%}
    {%- set expired = expired_event_condition(timestamp_column) -%}
    {%- set hooks = [] -%}
    {%- if incremental_state_kept() -%}
        {%- do hooks.append('insert into ' ~ raw_expired_rows_relation()
            ~ ' select distinct ' ~ sql_string(ref(raw_model).identifier) ~ ', expired.' ~ key
            ~ ', raw_rows._source_file, expired.' ~ timestamp_column
            ~ ' from (select ' ~ key ~ ', ' ~ timestamp_column ~ ' from ' ~ this ~ ' where '
            ~ expired ~ ') as expired inner join ' ~ ref(raw_model) ~ ' as raw_rows'
            ~ ' on trim(raw_rows.' ~ key ~ ') = expired.' ~ key) -%}
    {%- endif -%}
    {%- do hooks.append('delete from ' ~ ref(raw_model) ~ ' where trim(' ~ key ~ ') in (select '
        ~ key ~ ' from ' ~ this ~ ' where ' ~ expired ~ ')') -%}
    {%- do hooks.append('delete from ' ~ this ~ ' where ' ~ expired) -%}
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


{#- staging.raw_expired_rows: per raw row the retention window deleted, its table, key,
    file and timestamp (the row's values are gone with it); a state table (raw_state_relation).
    DuckDB only: Spark lands every file at every run. -#}
{% macro raw_expired_rows_relation(create=false) -%}
    {{ return(raw_state_relation('raw_expired_rows', 'table_name varchar, key_value varchar,'
        ~ ' source_file varchar, event_at timestamp', create=create)) }}
{%- endmacro %}


{#- Land again in `raw_relation` (raw.<table_name>) the raw rows the retention window deleted
    whose record (staging.raw_expired_rows) matches `condition` (SQL over its columns), as a
    full build of the same files would hold them: every row of their keys, read again from
    their recorded files but `skip_files` (files this run read again anyway, or removed). Their
    keys are recorded as changed in load `load_id` (none: a load of its own, recorded in
    staging.raw_loads), so the base model judges them again with every other copy, and expires
    them again if they are still too old; their records are deleted. `reason` is logged.
    Nothing when no record matches. -#}
{% macro land_expired_rows_again(table_name, raw_relation, condition, reason, load_id=none, skip_files=[]) -%}
    {%- set expired = raw_expired_rows_relation() -%}
    {%- set of_table = 'table_name = ' ~ sql_string(table_name) -%}
    {%- if run_query('select count(*) from ' ~ expired ~ ' where ' ~ of_table).columns[0].values()[0] == 0 -%}
        {{ return(0) }}
    {%- endif -%}
    {%- set keys = 'expired_keys_' ~ table_name ~ '_' ~ (invocation_id | string | replace('-', ''))[:12] -%}
    {%- do run_query('create or replace temp table ' ~ keys ~ ' as select distinct key_value from '
        ~ expired ~ ' where ' ~ of_table ~ ' and (' ~ condition ~ ')') -%}
    {%- set matched = run_query('select count(*) from temp.' ~ keys).columns[0].values()[0] -%}
    {%- set skipped = [] -%}
    {%- for file in skip_files -%}
        {%- do skipped.append(sql_string(file)) -%}
    {%- endfor -%}
    {%- set files = run_query('select distinct source_file from ' ~ expired ~ ' where ' ~ of_table
        ~ ' and key_value in (select key_value from temp.' ~ keys ~ ')'
        ~ (' and source_file not in (' ~ skipped | join(', ') ~ ')' if skipped else '')
        ~ ' order by 1').columns[0].values() | list -%}
    {%- set added = 0 -%}
    {%- if files -%}
        {%- set contract = raw_contract(raw_source_name(table_name), table_name) -%}
        {%- set landed = read_raw_file(raw_data_directory(), table_name, contract, raw_format(table_name), files) -%}
        {%- set added = run_query('insert into ' ~ raw_relation ~ ' by name select * from '
            ~ without_erased_customers(landed, contract) ~ ' as read_again where '
            ~ raw_primary_key_sql(table_name) ~ ' in (select key_value from temp.' ~ keys ~ ')'
        ).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if matched > 0 -%}
        {%- if load_id is none -%}
            {%- set load_id = run_query('select coalesce(max(load_id), 0) + 1 from ' ~ raw_loads_relation()
                ~ ' where ' ~ of_table).columns[0].values()[0] | int -%}
            {%- do run_query('insert into ' ~ raw_loads_relation() ~ ' (table_name, load_id, is_full,'
                ~ ' files_read, loaded_at, whole_files_read) values (' ~ sql_string(table_name) ~ ', '
                ~ load_id ~ ', false, ' ~ files | length ~ ', now(), 0)') -%}
        {%- endif -%}
        {%- do run_query('insert into ' ~ raw_changed_keys_relation() ~ ' select '
            ~ sql_string(table_name) ~ ', ' ~ load_id ~ ', key_value from temp.' ~ keys) -%}
        {%- do run_query('delete from ' ~ expired ~ ' where ' ~ of_table
            ~ ' and key_value in (select key_value from temp.' ~ keys ~ ')') -%}
        {{ log('Retention: ' ~ matched ~ ' expired key(s) of raw.' ~ table_name ~ ' judged again, '
            ~ added ~ ' row(s) landed again from ' ~ files | length ~ ' file(s): ' ~ reason ~ '.',
            info=true) }}
    {%- endif -%}
    {%- do run_query('drop table temp.' ~ keys) -%}
    {{ return(added) }}
{%- endmacro %}


{#- Pre-hook of the base models of the event tables (before delete_keys_gone_from_raw): the
    deleted rows a full build of the same files would hold are landed again from their files.
    On an incremental run, those the window keeps again after the reference date moved back;
    when the model is rebuilt in full without its raw table (say, rows are judged under another
    earliest_valid_date), every one: the rebuild judges them all again (a row that now has a
    defect of its own stays in the quarantine) and the post-hook expires again the rest. -#}
{% macro land_unexpired_events_again(table_name, raw_model) -%}
    {%- if execute and incremental_state_kept() -%}
        {%- if is_incremental() -%}
            {%- do land_expired_rows_again(table_name, ref(raw_model),
                'event_at >= ' ~ event_retention_cutoff(),
                'the reference date moved back, so the retention window keeps them again') -%}
        {%- else -%}
            {%- do land_expired_rows_again(table_name, ref(raw_model), 'true',
                'the base model is rebuilt in full, so every row is judged again') -%}
        {%- endif -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}
