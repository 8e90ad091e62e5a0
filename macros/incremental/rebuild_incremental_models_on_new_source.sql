{#- on-run-start hook. Incremental models keep the rows they judged in earlier runs, so they
    are only valid while the raw data comes from the same file and is read with the same export
    dialect. The warehouse records, per raw table, the file and dialect its incremental models
    were built from (table staging.raw_source_state); when either changes (say make build on
    data/raw, then the Dagster job on another landing directory, or a corrected
    raw_format), every incremental model is dropped, so this run rebuilds them in full, as
    dbt build --full-refresh would. Whichever entry point runs the build, it passes here: a
    change of raw source is handled inside the run. Only for build and run. -#}
{% macro rebuild_incremental_models_on_new_source() -%}
    {%- if not execute or flags.WHICH not in ['build', 'run'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set incremental_nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('config.materialized', 'equalto', 'incremental')
        | list -%}
    {%- set schema = generate_schema_name('staging', none) -%}
    {%- set state = adapter.quote(schema) ~ '.raw_source_state' -%}
    {%- do run_query('create schema if not exists ' ~ adapter.quote(schema)) -%}
    {%- do run_query('create table if not exists ' ~ state
        ~ ' (table_name varchar primary key, source_file varchar, raw_format varchar)') -%}
    {%- set built = {} -%}
    {%- for row in run_query('select table_name, source_file, raw_format from ' ~ state) -%}
        {%- do built.update({row[0]: (row[1], row[2])}) -%}
    {%- endfor -%}

    {%- set directory = raw_data_directory() -%}
    {%- set now = {} -%}
    {%- for table_name in ['customers', 'orders', 'sessions', 'survey_responses', 'email_events'] -%}
        {%- set found = find_raw_files(directory, table_name) -%}
        {%- do now.update({table_name: (
            found[0] if found | length == 1 else 'none',
            tojson(raw_format(table_name), sort_keys=true),
        )}) -%}
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
                {%- do changed.append(table_name ~ ' is now read with another raw_format') -%}
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
    {%- do run_query('delete from ' ~ state) -%}
    {%- do run_query('insert into ' ~ state ~ ' values ' ~ rows | join(', ')) -%}
    {#- A hook whose SQL is empty is never committed by dbt: commit the drops and the state
        here, or the models' own connections still see the old tables ("already exists"). -#}
    {%- do adapter.commit() -%}
    {{ return('') }}
{%- endmacro %}
