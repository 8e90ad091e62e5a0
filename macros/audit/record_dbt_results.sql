{#- on-run-end: the build's own record of its dbt nodes, in the build file (every way dbt
    runs writes it: dbt CLI, make build, Dagster's dbt steps). In one transaction:
    - audit.dbt_node_results gets, per model, seed, snapshot and data test of `results`, its
      latest outcome (status, invocation, when it finished; for a test, the models it tests;
      for a model, its relation), replacing the earlier one;
    - every data test of a model, seed or snapshot this run built that did not run with it is
      recorded as 'not run' (its last result was about the table as it was before);
    - rows of nodes no longer in the project are removed;
    - the invocation noted by record_dbt_invocation is marked completed.
    Node ids and statuses only, never a data value (no messages, no failing rows). Unit tests
    are not recorded: a failing one stops its model, which is recorded as skipped. A no-op on
    the read-only serving target. -#}
{% macro record_dbt_results(results) -%}
    {%- if not execute or target.name == 'serving' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set schema = adapter.quote(generate_schema_name('audit', none)) -%}
    {%- set built_types = ['model', 'seed', 'snapshot'] -%}
    {%- set timestamp_format = '%Y-%m-%d %H:%M:%S.%f' -%}
    {%- set now = modules.datetime.datetime.now(modules.pytz.utc) -%}
    {%- set rows = [] -%}
    {%- set ran = {} -%}
    {%- set built = {} -%}
    {%- for result in results if result.node.resource_type in built_types + ['test'] -%}
        {%- set node = result.node -%}
        {%- set status = result.status | string -%}
        {%- set finished = [now] -%}
        {%- for timing in result.timing if timing.name == 'execute' and timing.completed_at -%}
            {%- do finished.append(timing.completed_at) -%}
        {%- endfor -%}
        {%- set tested = [] -%}
        {%- if node.resource_type == 'test' -%}
            {%- for parent in node.depends_on.nodes if parent.split('.')[0] in built_types -%}
                {%- do tested.append(parent) -%}
            {%- endfor -%}
        {%- elif status == 'success' -%}
            {%- do built.update({node.unique_id: true}) -%}
        {%- endif -%}
        {%- do ran.update({node.unique_id: true}) -%}
        {%- set relation = '' if node.resource_type == 'test' else node.schema ~ '.' ~ node.alias -%}
        {%- do rows.append([node.unique_id, node.resource_type, status,
            finished[-1].strftime(timestamp_format), tested | join(','), relation]) -%}
    {%- endfor -%}
    {%- for node in graph.nodes.values()
            if node.resource_type == 'test' and node.unique_id not in ran -%}
        {%- set rebuilt = [] -%}
        {%- for parent in node.depends_on.nodes if parent in built -%}
            {%- do rebuilt.append(parent) -%}
        {%- endfor -%}
        {%- if rebuilt -%}
            {%- set tested = [] -%}
            {%- for parent in node.depends_on.nodes if parent.split('.')[0] in built_types -%}
                {%- do tested.append(parent) -%}
            {%- endfor -%}
            {%- do rows.append([node.unique_id, 'test', 'not run', none, tested | join(','), '']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(adapter.dispatch('record_dbt_results_sql', 'customer_analytics')(schema, rows, now, timestamp_format)) }}
{%- endmacro %}


{#- The statements of record_dbt_results for its `rows` ([unique_id, resource_type, status,
    completed_at or none, tested_models, relation_name]). -#}
{% macro duckdb__record_dbt_results_sql(schema, rows, now, timestamp_format) -%}
    begin transaction;
    {% if rows -%}
    delete from {{ schema }}.dbt_node_results where unique_id in (
        {%- for row in rows %}{{ sql_string(row[0]) }}{{ ',' if not loop.last }}{% endfor -%}
    );
    {%- endif %}
    delete from {{ schema }}.dbt_node_results where unique_id not in (
        {%- for unique_id in graph.nodes.keys() %}{{ sql_string(unique_id) }}{{ ',' if not loop.last }}{% endfor -%}
    );
    {% if rows -%}
    insert into {{ schema }}.dbt_node_results values
    {%- for row in rows %}
        ({{ sql_string(row[0]) }}, {{ sql_string(row[1]) }}, {{ sql_string(row[2]) }},
        {{ sql_string(invocation_id) }},
        {% if row[3] is none %}null{% else %}cast({{ sql_string(row[3]) }} as {{ dbt.type_timestamp() }}){% endif %},
        {{ sql_string(row[4]) }}, {{ sql_string(row[5]) }}){{ ',' if not loop.last }}
    {%- endfor %};
    {%- endif %}
    update {{ schema }}.dbt_invocations
    set completed_at = cast({{ sql_string(now.strftime(timestamp_format)) }} as {{ dbt.type_timestamp() }})
    where invocation_id = {{ sql_string(invocation_id) }};
    commit
{%- endmacro %}


{#- Spark: parquet tables take neither DELETE nor UPDATE, so each table is written again
    whole (spark_rewrite_table): the same rows as on DuckDB, without its transaction. -#}
{% macro spark__record_dbt_results_sql(schema, rows, now, timestamp_format) -%}
    {%- set kept -%}
        select * from {{ schema }}.dbt_node_results
        where unique_id in (
            {%- for unique_id in graph.nodes.keys() %}{{ sql_string(unique_id) }}{{ ',' if not loop.last }}{% endfor -%}
        )
        {%- if rows %}
            and unique_id not in (
                {%- for row in rows %}{{ sql_string(row[0]) }}{{ ',' if not loop.last }}{% endfor -%}
            )
        {%- endif %}
        {%- for row in rows %}
        union all
        select
            {{ sql_string(row[0]) }}, {{ sql_string(row[1]) }}, {{ sql_string(row[2]) }},
            {{ sql_string(invocation_id) }},
            {% if row[3] is none %}cast(null as timestamp){% else %}cast({{ sql_string(row[3]) }} as timestamp){% endif %},
            {{ sql_string(row[4]) }}, {{ sql_string(row[5]) }}
        {%- endfor %}
    {%- endset -%}
    {%- do spark_rewrite_table(schema ~ '.dbt_node_results', kept) -%}
    {%- set completed -%}
        select
            invocation_id,
            command,
            started_at,
            case
                when invocation_id = {{ sql_string(invocation_id) }}
                    then cast({{ sql_string(now.strftime(timestamp_format)) }} as timestamp)
                else completed_at
            end as completed_at
        from {{ schema }}.dbt_invocations
    {%- endset -%}
    {%- do spark_rewrite_table(schema ~ '.dbt_invocations', completed) -%}
    {{ return('') }}
{%- endmacro %}
