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

    A relationships test so marked also reads the child rows referring to a parent key that
    was there when the test last passed and is gone now (relationship_scope_filter): a row the
    run did not write can lose its parent.

    The scope key is the model's unique_key, or its meta.data_test_scope.key (for a model
    without one, e.g. the customer-month panel: customer_id). A view over an incremental model
    that only filters and renames its rows can use that model's scope with
    meta.data_test_scope.model. -#}


{#- staging.data_test_scopes (model_name, invocation_id, scope_key): per incremental model,
    the keys its last incremental build wrote (scope_key null: the marker of an incremental
    build, also when it wrote no row). A state table (raw_state_relation). -#}
{% macro data_test_scopes_relation(create=false) -%}
    {{ return(raw_state_relation('data_test_scopes',
        'model_name varchar, invocation_id varchar, scope_key varchar', create=create)) }}
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
    {%- set last = run_query('select status, invocation_id from '
        ~ adapter.quote(generate_schema_name('audit', none))
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
    {%- set written = 'cast(' ~ key ~ ' as varchar) in (select scope_key from ' ~ scopes
        ~ ' where model_name = ' ~ sql_string(scope_model) ~ ' and invocation_id = '
        ~ sql_string(invocation_id) ~ ' and scope_key is not null)' -%}
    {%- if not model.test_metadata or model.test_metadata.name != 'relationships' -%}
        {{ return(written) }}
    {%- endif -%}
    {{ return(relationship_scope_filter(written, last.columns[1].values()[0])) }}
{%- endmacro %}


{#- The parent of a scoped relationships test (where: "__changed_keys__"): [the model its `to`
    refers to, its field]; none for any other test. The child is the model the test is
    attached to; the parent the other model it depends on. -#}
{% macro scoped_relationship_parent(test) -%}
    {%- set metadata = test.test_metadata -%}
    {%- if not metadata or metadata.name != 'relationships'
            or '__changed_keys__' not in (test.config.get('where') or '') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set parents = [] -%}
    {%- for unique_id in test.depends_on.nodes if unique_id != test.attached_node
            and unique_id in graph.nodes
            and graph.nodes[unique_id].resource_type in ['model', 'seed', 'snapshot'] -%}
        {%- do parents.append(graph.nodes[unique_id]) -%}
    {%- endfor -%}
    {%- if parents | length != 1 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return([parents[0], metadata.kwargs.field]) }}
{%- endmacro %}


{#- staging.relationship_parent_keys (parent_model, parent_field, invocation_id, parent_key):
    per parent model and field of a scoped relationships test, the parent's keys when such a
    test last passed (each with the invocation that added it), and a marker row (parent_key
    null) with the invocation of that pass, also for a parent without rows. Created if
    missing. -#}
{% macro relationship_parent_keys_relation(create=false) -%}
    {{ return(raw_state_relation('relationship_parent_keys',
        'parent_model varchar, parent_field varchar, invocation_id varchar, parent_key varchar',
        create=create)) }}
{%- endmacro %}


{#- The where clause of one parent's rows in staging.relationship_parent_keys (`parent`: the
    [node, field] of scoped_relationship_parent). -#}
{% macro relationship_parent_keys_of(parent) -%}
    {{ return(' where parent_model = ' ~ sql_string(parent[0].name) ~ ' and parent_field = '
        ~ sql_string(parent[1])) }}
{%- endmacro %}


{#- The scope of a relationships test on an incremental run (see above, and docs/incremental.md,
    "Data tests on daily runs"): the child rows of the keys the run wrote (`written`), and every
    child row referring to a parent key that was there when this test last passed (invocation
    `last_invocation`) and is gone now: a row left unchanged can lose its parent. The parent's
    keys at that pass are staging.relationship_parent_keys (record_relationship_parent_keys);
    when they are not those of this test's last pass (another test of the parent passed since,
    or none was recorded), the whole table (`true`). -#}
{% macro relationship_scope_filter(written, last_invocation) -%}
    {%- set parent = scoped_relationship_parent(model) -%}
    {%- if parent is none -%}
        {{ return('true') }}
    {%- endif -%}
    {#- the name relationship_parent_keys_relation returns, without its create: this
        invocation built the child, so its on-run-start made the table (create_landing_state) -#}
    {%- set keys = adapter.quote(generate_schema_name('staging', none)) ~ '.relationship_parent_keys' -%}
    {%- set of_parent = relationship_parent_keys_of(parent) -%}
    {%- set recorded = run_query('select invocation_id from ' ~ keys ~ of_parent
        ~ ' and parent_key is null').columns[0].values() -%}
    {%- if recorded | length != 1 or recorded[0] != last_invocation -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set parent_relation = api.Relation.create(database=parent[0].database,
        schema=parent[0].schema, identifier=parent[0].alias) -%}
    {{ return('(' ~ written ~ ') or cast(' ~ model.test_metadata.kwargs.column_name
        ~ ' as varchar) in (select parent_key from ' ~ keys ~ of_parent
        ~ ' and parent_key is not null except select cast(' ~ parent[1] ~ ' as varchar) from '
        ~ parent_relation ~ ')') }}
{%- endmacro %}


{#- on-run-end: for every scoped relationships test that passed in this invocation, its parent's
    record made the keys of the parent's field now (their state when it passed: a parent is
    built before its tests), with this invocation in its marker. A parent whose tests
    did not pass has its record removed once a recorded key is gone from it: the record then
    serves no test (each reads the whole table at its next run), and it keeps no key the
    parent lost (an erased customer's). A no-op where no incremental state is kept (Spark, the
    serving target). -#}
{% macro record_relationship_parent_keys(results) -%}
    {%- if not execute or target.name == 'serving' or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set passed = {} -%}
    {%- for result in results if result.node.resource_type == 'test'
            and (result.status | string) == 'pass' -%}
        {%- set parent = scoped_relationship_parent(result.node) -%}
        {%- if parent is not none -%}
            {%- do passed.update({parent[0].unique_id ~ '.' ~ parent[1]: parent}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set others = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'test' -%}
        {%- set parent = scoped_relationship_parent(node) -%}
        {%- if parent is not none and parent[0].unique_id ~ '.' ~ parent[1] not in passed -%}
            {%- do others.update({parent[0].unique_id ~ '.' ~ parent[1]: parent}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set keys = relationship_parent_keys_relation() -%}
    {%- set statements = ['begin transaction'] -%}
    {%- for parent in passed.values() -%}
        {%- set relation = api.Relation.create(database=parent[0].database,
            schema=parent[0].schema, identifier=parent[0].alias) -%}
        {%- set of_parent = relationship_parent_keys_of(parent) -%}
        {%- set parent_keys = 'select cast(' ~ parent[1] ~ ' as varchar) from ' ~ relation
            ~ ' where ' ~ parent[1] ~ ' is not null' -%}
        {#- brought up to date rather than written again: the keys gone and the marker out, the
            keys new and the marker of this invocation in (at L, 0.4 s instead of 1.0 s for two
            parents of a million keys) -#}
        {%- do statements.append('delete from ' ~ keys ~ of_parent ~ ' and (parent_key is null'
            ~ ' or parent_key not in (' ~ parent_keys ~ '))') -%}
        {%- do statements.append('insert into ' ~ keys ~ ' select ' ~ sql_string(parent[0].name)
            ~ ', ' ~ sql_string(parent[1]) ~ ', ' ~ sql_string(invocation_id) ~ ', parent_key'
            ~ ' from (select null as parent_key union all (' ~ parent_keys ~ ' except select'
            ~ ' parent_key from ' ~ keys ~ of_parent ~ ' and parent_key is not null))') -%}
    {%- endfor -%}
    {%- for parent in others.values() -%}
        {%- set of_parent = relationship_parent_keys_of(parent) -%}
        {%- set relation = adapter.get_relation(database=parent[0].database,
            schema=parent[0].schema, identifier=parent[0].alias) -%}
        {%- if relation is none -%}
            {%- do statements.append('delete from ' ~ keys ~ of_parent) -%}
        {%- else -%}
            {%- do statements.append('delete from ' ~ keys ~ of_parent ~ ' and exists (select'
                ~ ' parent_key from ' ~ keys ~ of_parent ~ ' and parent_key is not null except'
                ~ ' select cast(' ~ parent[1] ~ ' as varchar) from ' ~ relation ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if statements | length == 1 -%}
        {{ return('') }}
    {%- endif -%}
    {%- do statements.append('commit') -%}
    {{ return(statements | join(';\n') ~ ';') }}
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
