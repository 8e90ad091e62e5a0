{#- on-run-start hook. Incremental models keep the rows they judged in earlier runs, so they
    are only valid while they read the same raw data, read and judged the same way. Per raw
    table the warehouse records what the incremental models were built from (table
    staging.incremental_source_state: the raw file, the export dialect and the settings that
    judge a row); when this run would build them from anything else, every incremental model
    is dropped, so this run rebuilds them in full, as dbt build --full-refresh would. Whichever
    entry point starts the build (make build, dbt build, the Dagster job), it passes here: a
    change of raw source is handled inside the run.

    The raw file this run's models will read: the one the raw model finds now if the raw
    model is selected in this run, else the one raw.<table> holds (recorded by the raw model's
    post-hook record_raw_source in staging.raw_source_state). Only for build and run. -#}
{% macro rebuild_incremental_models_on_new_source() -%}
    {%- if not execute or flags.WHICH not in ['build', 'run'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set incremental_nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('config.materialized', 'equalto', 'incremental')
        | list -%}
    {%- set raw_state = source_state_relation('raw_source_state') -%}
    {%- set built_state = source_state_relation('incremental_source_state') -%}
    {%- set landed = {} -%}
    {%- for row in run_query('select table_name, source_file from ' ~ raw_state) -%}
        {%- do landed.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set built = {} -%}
    {%- for row in run_query('select table_name, source_file, raw_format from ' ~ built_state) -%}
        {%- do built.update({row[0]: (row[1], row[2])}) -%}
    {%- endfor -%}

    {#- the settings that decide how an incremental model judges or stitches a row -#}
    {%- set judging = {} -%}
    {%- for name in ['earliest_valid_date', 'max_amount_eur', 'future_tolerance_days',
            'as_of_date', 'engaged_session_min_seconds', 'engaged_session_min_pageviews'] -%}
        {%- do judging.update({name: setting(name)}) -%}
    {%- endfor -%}
    {%- set directory = raw_data_directory() -%}
    {%- set now = {} -%}
    {%- for table_name in ['customers', 'orders', 'sessions', 'survey_responses', 'email_events'] -%}
        {%- if 'model.' ~ project_name ~ '.raw_' ~ table_name in selected_resources
                or table_name not in landed -%}
            {%- set found = find_raw_files(directory, table_name) -%}
            {%- set file = found[0] if found | length == 1 else 'none' -%}
        {%- else -%}
            {%- set file = landed[table_name] -%}
        {%- endif -%}
        {%- do now.update({table_name: (file, tojson(
            {'raw_format': raw_format(table_name), 'settings': judging}, sort_keys=true))}) -%}
    {%- endfor -%}

    {%- set existing = [] -%}
    {%- for node in incremental_nodes -%}
        {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
        {%- if relation is not none -%}
            {%- do existing.append(relation) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set changed = [] -%}
    {%- if existing -%}
        {%- for table_name, current in now.items() -%}
            {%- if table_name not in built -%}
                {%- do changed.append(table_name ~ ' has no recorded source') -%}
            {%- elif built[table_name][0] != current[0] -%}
                {%- do changed.append(table_name ~ ' was built from ' ~ built[table_name][0]
                    ~ ' and now comes from ' ~ current[0]) -%}
            {%- elif built[table_name][1] != current[1] -%}
                {%- do changed.append(table_name ~ ' is now read or judged with other settings') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {%- if changed -%}
        {{ log('Raw source changed (' ~ changed | join('; ') ~ '): rebuilding the incremental '
            ~ 'models in full.', info=true) }}
        {%- for relation in existing -%}
            {%- do adapter.drop_relation(relation) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set rows = [] -%}
    {%- for table_name, current in now.items() -%}
        {%- do rows.append('(' ~ sql_string(table_name) ~ ', ' ~ sql_string(current[0]) ~ ', '
            ~ sql_string(current[1]) ~ ')') -%}
    {%- endfor -%}
    {%- do run_query('delete from ' ~ built_state) -%}
    {%- do run_query('insert into ' ~ built_state ~ ' values ' ~ rows | join(', ')) -%}
    {#- A hook whose SQL is empty is never committed by dbt: commit the drops and the state
        here, or the models' own connections still see the old tables ("already exists"). -#}
    {%- do adapter.commit() -%}
    {{ return('') }}
{%- endmacro %}


{#- staging.<name> (table_name, source_file, raw_format), created if missing. -#}
{% macro source_state_relation(name) -%}
    {%- set schema = generate_schema_name('staging', none) -%}
    {%- set relation = adapter.quote(schema) ~ '.' ~ name -%}
    {%- do run_query('create schema if not exists ' ~ adapter.quote(schema)) -%}
    {%- do run_query('create table if not exists ' ~ relation
        ~ ' (table_name varchar primary key, source_file varchar, raw_format varchar)') -%}
    {{ return(relation) }}
{%- endmacro %}


{#- Post-hook of the raw models: record which file raw.<table> now holds, the SHA-256 of its
    bytes (the landing sensor's first tick compares it with the landing directory, so a
    warehouse built from the files there is not rebuilt) and the export dialect it was read
    with (staging.raw_source_state; the GX raw suites read the dialect). -#}
{% macro record_raw_source() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set state = source_state_relation('raw_source_state') -%}
    {%- do run_query('alter table ' ~ state ~ ' add column if not exists source_sha256 varchar') -%}
    {%- set files = run_query('select distinct _source_file from ' ~ this
        ~ ' where _source_file is not null order by 1 limit 1').columns[0].values() | list -%}
    {%- set digest = raw_file_sha256(files[0]) if files else none -%}
    {%- do run_query('delete from ' ~ state ~ ' where table_name = ' ~ sql_string(table_name)) -%}
    {%- do run_query('insert into ' ~ state
        ~ ' (table_name, source_file, raw_format, source_sha256) values ('
        ~ sql_string(table_name) ~ ', '
        ~ sql_string(files[0] if files else 'none') ~ ', '
        ~ sql_string(tojson(raw_format(table_name), sort_keys=true)) ~ ', '
        ~ (sql_string(digest) if digest else 'null') ~ ')') -%}
    {{ return('') }}
{%- endmacro %}
