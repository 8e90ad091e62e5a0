{#- Daily data tests that scale (docs/incremental.md, "Data tests on daily runs"). A data test
    of an incremental model configured with `where: "__changed_keys__"` checks, on a run that
    built the model incrementally, only the rows whose key this run wrote (the keys of the
    rows dbt inserted), together with every other row holding one of those keys: a new row
    colliding with an old one is in scope with it. The rows outside the scope are the rows
    the last run of the same test checked and passed, unchanged since.

    The whole table is checked instead (the placeholder becomes `true`) whenever that
    argument does not hold or is not wanted:
    - the model was built in full in this invocation (a first build, --full-refresh, a change
      of raw source or setting), or not built by it at all (dbt test on its own);
    - the last recorded result of this very test is not pass or warn (failed, errored, not
      run after a rebuild, or never run): its rows were never shown to be good;
    - the setting data_tests_scope is 'all' (the weekly full suite: one weekday's run of
      Dagster's daily schedule, tagged customer_analytics/data_tests=all; or
      `dbt build --vars '{data_tests_scope: all}'`).

    The scope key is the model's unique_key, or its meta.data_test_scope.key (for a model
    without one, e.g. the customer-month panel: customer_id). A view over an incremental model
    that only filters and renames its rows can use that model's scope with
    meta.data_test_scope.model. -#}


{#- staging.data_test_scopes (model_name, invocation_id, scope_key): per incremental model,
    the keys its last incremental build wrote (scope_key null: the marker of an incremental
    build, also when it wrote no row). Created if missing. -#}
{% macro data_test_scopes_relation() -%}
    {{ return(raw_state_relation('data_test_scopes',
        'model_name varchar, invocation_id varchar, scope_key varchar')) }}
{%- endmacro %}


{#- The key expression of an incremental model's rows for its data test scope (see above). -#}
{% macro data_test_scope_key(node) -%}
    {%- set scope = (node.config.meta or {}).get('data_test_scope') or {} -%}
    {{ return(scope.get('key') or node.config.get('unique_key')) }}
{%- endmacro %}


{#- The temporary table dbt-duckdb built an incremental run's new rows in
    (<identifier>__dbt_tmp<time>, kept for the connection), or none on a full build (which
    writes the table directly). -#}
{% macro incremental_batch_table() -%}
    {{ return(run_query('select max(table_name) from duckdb_tables() where temporary'
        ~ ' and starts_with(table_name, ' ~ sql_string(this.identifier ~ '__dbt_tmp') ~ ')'
        ).columns[0].values()[0]) }}
{%- endmacro %}


{#- Called by record_incremental_source (the post-hook of every model), for incremental models
    but the raw ones: replace the model's scope with the keys this run inserted, when it was
    built incrementally (the rows of `temporary`, incremental_batch_table; a full build
    records no scope). -#}
{% macro record_data_test_scope(temporary) -%}
    {%- set scopes = data_test_scopes_relation() -%}
    {%- do run_query('delete from ' ~ scopes ~ ' where model_name = ' ~ sql_string(model.name)) -%}
    {%- set key = data_test_scope_key(model) -%}
    {%- if not temporary or not key -%}
        {{ return('') }}
    {%- endif -%}
    {%- do run_query('insert into ' ~ scopes ~ ' select ' ~ sql_string(model.name) ~ ', '
        ~ sql_string(invocation_id) ~ ', null union all select distinct '
        ~ sql_string(model.name) ~ ', ' ~ sql_string(invocation_id) ~ ', cast(' ~ key
        ~ ' as varchar) from temp.main.' ~ adapter.quote(temporary) ~ ' where ' ~ key
        ~ ' is not null') -%}
    {{ return('') }}
{%- endmacro %}


{#- The filter a data test's `where: "__changed_keys__"` stands for (see above): `true` (the
    whole table) or the rows of the keys this invocation wrote into the tested model. -#}
{% macro data_test_scope_filter(relation) -%}
    {%- if not execute or target.name == 'serving' or setting('data_tests_scope') == 'all'
            or not incremental_state_kept() -%}
        {{ return('true') }}
    {%- endif -%}
    {#- the records below exist once a dbt build ran on the file (not for dbt compile of a new
        one) -#}
    {%- set recorded = run_query("select count(*) from duckdb_tables() where (schema_name, table_name)"
        ~ " in ((" ~ sql_string(generate_schema_name('audit', none)) ~ ", 'dbt_node_results'), ("
        ~ sql_string(generate_schema_name('staging', none)) ~ ", 'data_test_scopes'))"
        ).columns[0].values()[0] -%}
    {%- if recorded != 2 -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set tested = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
            and node.alias == relation.identifier and node.schema == relation.schema -%}
        {%- do tested.append(node) -%}
    {%- endfor -%}
    {%- if tested | length != 1 -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set scope = (tested[0].config.meta or {}).get('data_test_scope') or {} -%}
    {%- set scope_model = scope.get('model') or tested[0].name -%}
    {%- set key = data_test_scope_key(tested[0]) -%}
    {%- set last = run_query('select status from ' ~ adapter.quote(generate_schema_name('audit', none))
        ~ '.dbt_node_results where unique_id = ' ~ sql_string(model.unique_id)) -%}
    {%- set passed = last.rows | length == 1 and last.columns[0].values()[0] in ['pass', 'warn'] -%}
    {#- the name data_test_scopes_relation returns, without its create (checked above) -#}
    {%- set scopes = adapter.quote(generate_schema_name('staging', none)) ~ '.data_test_scopes' -%}
    {%- set marked = run_query('select count(*) from ' ~ scopes ~ ' where model_name = '
        ~ sql_string(scope_model) ~ ' and invocation_id = ' ~ sql_string(invocation_id)
        ~ ' and scope_key is null').columns[0].values()[0] > 0 -%}
    {%- if not passed or not marked or not key -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('cast(' ~ key ~ ' as varchar) in (select scope_key from ' ~ scopes
        ~ ' where model_name = ' ~ sql_string(scope_model) ~ ' and invocation_id = '
        ~ sql_string(invocation_id) ~ ' and scope_key is not null)') }}
{%- endmacro %}


{#- dbt's get_where_subquery (the relation a data test reads), with the placeholder
    __changed_keys__ of a test's `where` replaced by data_test_scope_filter. -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- if '__changed_keys__' in where -%}
            {%- set where = where | replace('__changed_keys__', data_test_scope_filter(relation)) -%}
        {%- endif -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
