{#- Whether this engine keeps the state incremental runs need (landing state, change feeds,
    fingerprints, test scopes: DELETE and UPDATE on plain tables). DuckDB does. On Spark
    (docs/spark.md) the tables are parquet by default, which take neither, and the state hooks
    are DuckDB's: every incremental model is computed in full at every run, which is exact by
    construction (on Delta and Iceberg then merged into its table: full_results_merged), and
    the state hooks do nothing. -#}
{% macro incremental_state_kept() -%}
    {{ return(adapter.type() == 'duckdb') }}
{%- endmacro %}


{#- Whether the incremental models, which are computed in full on Spark, are written into
    their existing tables with MERGE (spark__get_merge_sql: only the rows that differ are
    inserted or deleted) rather than replaced: on Spark with var spark_table_format delta or
    iceberg (docs/spark.md, "Delta and Iceberg tables"). False on DuckDB and on parquet. -#}
{% macro full_results_merged() -%}
    {#- validated on every engine, so that a bad value stops DuckDB builds too -#}
    {%- set table_format = setting('spark_table_format') -%}
    {{ return(adapter.type() == 'spark' and table_format in ['delta', 'iceberg']) }}
{%- endmacro %}


{#- dbt's should_full_refresh, for this project's incremental models. Incremental models keep
    the rows they judged in earlier runs, so they are only valid while they read the same raw
    data, read and judged the same way. Each incremental model records what it was built from
    (record_incremental_source, its post-hook); when it would now be built from anything else,
    it is built in full, as `dbt build --full-refresh` would build it: dbt's own incremental
    materialization does the rebuild (is_incremental() is false, the new table is swapped in),
    so nothing is dropped behind the user's back, and only the models the run builds are
    touched. Every other node, and a run with --full-refresh or the full_refresh config, keeps
    dbt's behaviour. -#}
{% macro should_full_refresh() -%}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is none -%}
        {%- set configured = flags.FULL_REFRESH -%}
    {%- endif -%}
    {%- if execute and not incremental_state_kept() and model is defined
            and model.resource_type == 'model' and model.config.materialized == 'incremental' -%}
        {#- built in full: a new table, or on Delta and Iceberg the full result merged into
            the existing one (is_incremental() is false either way) -#}
        {{ return(configured or not full_results_merged()) }}
    {%- endif -%}
    {%- if configured or not execute or model is not defined or model.resource_type != 'model'
            or model.config.materialized != 'incremental' -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- if model.fqn[1] == 'raw' -%}
        {#- landed in full, or every file read again: a new table (raw_load_plan) -#}
        {%- set plan = raw_load_plan(this.identifier) -%}
        {{ return(plan.full or plan.replace) }}
    {%- endif -%}
    {{ return(incremental_source_changes(model.name) | length > 0) }}
{%- endmacro %}


{#- What an incremental model built now is built from, as a dict (table -> [file, how it is
    read and judged]): the privacy fingerprints (key 'privacy'), the seeds' checksums (key
    'seeds'), the settings the model itself names in meta.incremental_settings (key
    'model_settings': e.g. the lifecycle thresholds of rpt_customer_lifecycle); per raw
    table, the file raw.<table> holds (staging.raw_source_state, recorded by the raw model
    when it ran), the export dialect and the settings that decide how an incremental model
    judges or stitches a row. -#}
{% macro incremental_built_from() -%}
    {%- set landed = {} -%}
    {%- for row in run_query('select table_name, source_file from '
            ~ source_state_relation('raw_source_state')) -%}
        {%- do landed.update({row[0]: row[1]}) -%}
    {%- endfor -%}
    {%- set judging = {} -%}
    {%- for name in ['earliest_valid_date', 'max_amount_eur', 'future_tolerance_days',
            'as_of_date', 'engaged_session_min_seconds', 'engaged_session_min_pageviews',
            'event_retention_days', 'churn_window_days'] -%}
        {%- do judging.update({name: setting(name)}) -%}
    {%- endfor -%}
    {#- fingerprints of the pseudonymisation key and of the erasure requests (dbt plugin):
        another key or another erased customer rebuilds every incremental model in full -#}
    {%- set now = {'privacy': [run_query('select customer_analytics_privacy_state()').columns[0].values()[0], '']} -%}
    {#- the reference data (seeds: exchange rates, code lists) rows are judged against -#}
    {%- set seed_checksums = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'seed' -%}
        {%- do seed_checksums.update({node.name: node.checksum.checksum}) -%}
    {%- endfor -%}
    {%- do now.update({'seeds': [tojson(seed_checksums, sort_keys=true), '']}) -%}
    {%- set model_settings = {} -%}
    {%- for name in (model.config.meta or {}).get('incremental_settings', []) -%}
        {%- do model_settings.update({name: setting(name)}) -%}
    {%- endfor -%}
    {%- do now.update({'model_settings': [tojson(model_settings, sort_keys=true), '']}) -%}
    {%- for table_name in raw_table_names() -%}
        {%- do now.update({table_name: [landed.get(table_name, 'none'), tojson(
            {'raw_format': raw_format(table_name), 'settings': judging}, sort_keys=true)]}) -%}
    {%- endfor -%}
    {{ return(now) }}
{%- endmacro %}


{#- staging.incremental_model_state (model_name, built_from: JSON of incremental_built_from),
    a state table (raw_state_relation). -#}
{% macro incremental_state_relation(create=false) -%}
    {{ return(raw_state_relation('incremental_model_state',
        'model_name varchar primary key, built_from varchar',
        added_columns=['raw_loads_consumed varchar'], create=create)) }}
{%- endmacro %}


{#- Why the incremental model `model_name` must be rebuilt in full: one sentence per raw table
    it would now be built from differently; none when its table is missing (a first build
    builds in full anyway) or it was built from the same. A model without a record (built
    before records were kept) is rebuilt once, unless `unrecorded_is_change` is false. -#}
{% macro incremental_source_changes(model_name, unrecorded_is_change=true) -%}
    {%- if adapter.get_relation(this.database, this.schema, this.identifier) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set recorded = run_query('select built_from from ' ~ incremental_state_relation()
        ~ ' where model_name = ' ~ sql_string(model_name)).columns[0].values() | list -%}
    {%- if not recorded -%}
        {{ return([model_name ~ ' has no record of its raw source'] if unrecorded_is_change else []) }}
    {%- endif -%}
    {%- set built = fromjson(recorded[0]) -%}
    {%- set changes = [] -%}

    {%- for table_name, current in incremental_built_from().items() -%}
        {%- if table_name == 'privacy' and built.get('privacy') != current -%}
            {%- do changes.append('the pseudonymisation key or the erasure requests changed') -%}
        {%- elif table_name == 'privacy' -%}
        {%- elif table_name == 'seeds' and built.get('seeds') != current -%}
            {%- do changes.append('the reference data (seeds) changed') -%}
        {%- elif table_name == 'seeds' -%}
        {%- elif table_name == 'model_settings' and built.get('model_settings', current) != current -%}
            {%- do changes.append(model_name ~ "'s own settings changed") -%}
        {%- elif table_name == 'model_settings' -%}
        {%- elif table_name not in built -%}
            {%- do changes.append(table_name ~ ' has no recorded source') -%}
        {%- elif built[table_name][0] != current[0] -%}
            {%- do changes.append(table_name ~ ' was built from ' ~ built[table_name][0]
                ~ ' and now comes from ' ~ current[0]) -%}
        {%- elif built[table_name][1] != current[1] -%}
            {%- do changes.append(table_name ~ ' is now read or judged with other settings') -%}
        {%- endif -%}
    {%- endfor -%}
    {#- a raw table landed in full since (for a reason not given above) -#}
    {%- set consumed = raw_loads_consumed(model_name) -%}
    {%- if consumed is none -%}
        {%- do changes.append(model_name ~ ' has no record of the raw loads it read') -%}
    {%- else -%}
        {%- for row in run_query('select table_name, max(load_id) from ' ~ raw_loads_relation()
                ~ ' where is_full group by table_name order by table_name') -%}
            {%- set explained = [] -%}
            {%- for change in changes if change.startswith(row[0] ~ ' ') -%}
                {%- do explained.append(change) -%}
            {%- endfor -%}
            {%- if row[1] > consumed.get(row[0], 0) and not explained -%}
                {%- do changes.append('raw.' ~ row[0] ~ ' was landed in full since ' ~ model_name
                    ~ ' was built') -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(changes) }}
{%- endmacro %}


{#- Post-hook of every model (a no-op but for incremental ones): says when the model was just
    rebuilt in full because its raw source changed (not on its first build), then records
    what it was built from. -#}
{% macro record_incremental_source() -%}
    {%- if not execute or not incremental_state_kept() or model.config.materialized != 'incremental' or model.fqn[1] == 'raw' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set temporary = incremental_batch_table() -%}
    {%- do record_data_test_scope(temporary) -%}
    {%- do record_model_changed_keys(temporary) -%}
    {%- set changes = incremental_source_changes(model.name, unrecorded_is_change=false) -%}
    {%- if changes -%}
        {{ log('Raw source changed (' ~ changes | join('; ') ~ '): rebuilt ' ~ model.name
            ~ ' in full.', info=true) }}
    {%- endif -%}
    {%- set state = incremental_state_relation() -%}
    {%- set loads = {} -%}
    {%- for row in run_query('select table_name, max(load_id) from ' ~ raw_loads_relation()
            ~ ' group by table_name') -%}
        {%- do loads.update({row[0]: row[1] | int}) -%}
    {%- endfor -%}
    {%- do run_query('delete from ' ~ state ~ ' where model_name = ' ~ sql_string(model.name)) -%}
    {%- do run_query('insert into ' ~ state ~ ' (model_name, built_from, raw_loads_consumed) values ('
        ~ sql_string(model.name) ~ ', '
        ~ sql_string(tojson(incremental_built_from(), sort_keys=true)) ~ ', '
        ~ sql_string(tojson(loads, sort_keys=true)) ~ ')') -%}
    {{ return('') }}
{%- endmacro %}


{#- The raw loads (staging.raw_loads) incremental model `model_name` has read, per raw table
    the last load_id when it was last built ({} before any raw load); none when it records
    none (built before loads were recorded). -#}
{% macro raw_loads_consumed(model_name) -%}
    {%- set recorded = run_query('select raw_loads_consumed from ' ~ incremental_state_relation()
        ~ ' where model_name = ' ~ sql_string(model_name)).columns[0].values() | list -%}
    {{ return(fromjson(recorded[0]) if recorded and recorded[0] is not none else none) }}
{%- endmacro %}


{#- The keys of raw table `table_name` (its primary column, cleaned) on rows added to or
    removed from day partitions since this incremental model was last built, as a subquery
    (docs/incremental.md): the model judges, stitches or publishes those keys again, however
    old their rows. Only meaningful inside is_incremental(). -#}
{% macro raw_keys_changed(table_name) -%}
    {%- set consumed = (raw_loads_consumed(model.name) or {}).get(table_name, 0) if execute else 0 -%}
    (
        select changed.key_value
        from {{ raw_changed_keys_relation() if execute else 'staging.raw_changed_keys' }} as changed
        where changed.table_name = {{ sql_string(table_name) }} and changed.load_id > {{ consumed }}
    )
{%- endmacro %}


{#- Whether raw table `table_name` was landed since this incremental model was last built from
    anything but day partitions (a whole-table file read or removed, a full landing, or a load
    recorded before whole-table files were counted): the whole-table files record no keys, so
    the model judges its lookback window again. False outside an incremental run. -#}
{% macro raw_whole_files_changed(table_name) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set consumed = (raw_loads_consumed(model.name) or {}).get(table_name, 0) -%}
    {%- set count = run_query('select count(*) from ' ~ raw_loads_relation()
        ~ ' where table_name = ' ~ sql_string(table_name) ~ ' and load_id > ' ~ consumed
        ~ ' and (is_full or coalesce(whole_files_read, 1) > 0)').columns[0].values()[0] -%}
    {{ return(count > 0) }}
{%- endmacro %}


{#- Whether raw_keys_changed(table_name) holds any key now (asked at compile time, so that a
    model leaves out the clauses that would only scan for none). True outside a run. -#}
{% macro raw_has_changed_keys(table_name) -%}
    {%- if not execute -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(run_query('select count(*) from ' ~ raw_keys_changed(table_name)
        ~ ' as keys').columns[0].values()[0] > 0) }}
{%- endmacro %}
