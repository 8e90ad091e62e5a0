{#- staging.<name> (table_name, source_file, raw_format, source_sha256, privacy_state,
    landing_settings), a state table (raw_state_relation). -#}
{% macro source_state_relation(name, create=false) -%}
    {{ return(raw_state_relation(name,
        'table_name varchar primary key, source_file varchar, raw_format varchar',
        added_columns=['source_sha256 varchar', 'privacy_state varchar', 'landing_settings varchar'],
        create=create)) }}
{%- endmacro %}


{#- Post-hook of the raw models: record where raw.<table> is landed from (raw_landing_location), the SHA-256 of its
    bytes (the landing sensor's first tick compares it with the landing directory, so a
    warehouse built from the files there is not rebuilt) and the export dialect it was read
    with (staging.raw_source_state; the GX raw suites read the dialect), and the privacy state
    it was read under (fingerprints of the pseudonymisation key and of the erasure requests:
    publishing refuses a build read before the erasure requests last changed). -#}
{% macro record_raw_source() -%}
    {{ return(adapter.dispatch('record_raw_source', 'customer_analytics')()) }}
{%- endmacro %}

{% macro default__record_raw_source() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set state = source_state_relation('raw_source_state') -%}
    {%- set plan = raw_load_plan(table_name) -%}
    {#- the digest of what is landed (staging.raw_file_state, just updated by record_raw_load:
        a run for some days leaves the other days' records as they were): the whole-table
        file's own SHA-256 when that is all, else the SHA-256 of one line '<path relative to
        the landing directory> <sha256>' per file, in path order, joined by newlines
        (orchestration/lib/landing.py computes the same) -#}
    {%- set landed = run_query('select file, sha256 from ' ~ raw_file_state_relation()
        ~ ' where table_name = ' ~ sql_string(table_name) ~ ' order by file').rows | list -%}
    {%- set directory = raw_data_directory() -%}
    {%- if landed | length == 1 and raw_file_day(landed[0][0], directory, table_name) is none -%}
        {%- set digest = landed[0][1] -%}
    {%- elif landed -%}
        {%- set lines = [] -%}
        {%- for file, sha256 in landed -%}
            {%- do lines.append(file[directory | length + 1:] ~ ' ' ~ sha256) -%}
        {%- endfor -%}
        {%- set digest = run_query('select sha256(' ~ sql_string(lines | join('\n')) ~ ')').columns[0].values()[0] -%}
    {%- else -%}
        {%- set digest = none -%}
    {%- endif -%}
    {%- do run_query('delete from ' ~ state ~ ' where table_name = ' ~ sql_string(table_name)) -%}
    {%- do run_query('insert into ' ~ state
        ~ ' (table_name, source_file, raw_format, source_sha256, privacy_state, landing_settings) values ('
        ~ sql_string(table_name) ~ ', '
        ~ sql_string(plan.location) ~ ', '
        ~ sql_string(tojson(raw_format(table_name), sort_keys=true)) ~ ', '
        ~ (sql_string(digest) if digest else 'null') ~ ', customer_analytics_privacy_state(), '
        ~ sql_string(raw_landing_settings()) ~ ')') -%}
    {{ return('') }}
{%- endmacro %}


{#- Spark: the same record, rewritten whole (parquet takes no DELETE): where the table is
    landed from, its dialect, its landing settings and the privacy state it was read under
    (spark_privacy_state), which publishing checks as on DuckDB; no SHA-256 (Spark lands every
    file at every run: the landing sensor's first tick builds once). -#}
{% macro spark__record_raw_source() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set schema = adapter.quote(generate_schema_name('staging', none)) -%}
    {%- set state = schema ~ '.raw_source_state' -%}
    {%- do run_query('create schema if not exists ' ~ schema) -%}
    {%- do run_query('create table if not exists ' ~ state ~ ' (table_name string,'
        ~ ' source_file string, raw_format string, source_sha256 string, privacy_state string,'
        ~ ' landing_settings string) using parquet') -%}
    {%- set location = raw_landing_location(table_name, raw_landed_files(table_name)) -%}
    {%- do spark_rewrite_table(state, 'select * from ' ~ state ~ ' where table_name != '
        ~ sql_string(table_name) ~ ' union all select ' ~ sql_string(table_name) ~ ', '
        ~ sql_string(location) ~ ', ' ~ sql_string(tojson(raw_format(table_name), sort_keys=true))
        ~ ', cast(null as string), (' ~ spark_privacy_state() ~ '), '
        ~ sql_string(raw_landing_settings())) -%}
    {{ return('') }}
{%- endmacro %}
