{#- on-run-start hook. Incremental models keep the rows they judged in earlier runs, so they
    are only valid while the raw data comes from the same place. When the raw orders, sessions or
    email events now come from another file (say the shipped seeds, then var raw_data_path), drop
    every incremental model so this run rebuilds them in full, as dbt build --full-refresh would.
    The source of a row is its _source_file, kept by the base models; the current file is what
    the one raw reader (raw_table) reads now. Only for build and run. -#}
{% macro rebuild_incremental_models_on_new_source() -%}
    {%- if not execute or flags.WHICH not in ['build', 'run'] -%}
        {{ return('') }}
    {%- endif -%}
    {%- set incremental_nodes = graph.nodes.values()
        | selectattr('resource_type', 'equalto', 'model')
        | selectattr('config.materialized', 'equalto', 'incremental')
        | list -%}
    {%- set changed = [] -%}
    {%- for source_name, table_name, base_model in [
        ('shop', 'orders', 'base_shop__orders'),
        ('web_analytics', 'sessions', 'base_web_analytics__sessions'),
        ('email', 'email_events', 'base_email__email_events'),
    ] -%}
        {%- set base = incremental_nodes | selectattr('name', 'equalto', base_model) | first -%}
        {%- set relation = adapter.get_relation(base.database, base.schema, base.alias) if base else none -%}
        {%- if relation is not none -%}
            {%- set built_from = run_query(
                'select distinct _source_file from ' ~ relation ~ ' where _source_file is not null'
            ).columns[0].values() | list -%}
            {%- set found = find_raw_files(raw_data_directory(), table_name) -%}
            {%- set now_from = found[0] if found | length == 1 else none -%}
            {%- if built_from | length > 0 and built_from != [now_from] -%}
                {%- do changed.append(
                    source_name ~ '.' ~ table_name ~ ' was built from ' ~ built_from | join(', ')
                    ~ ' and now comes from ' ~ (now_from or 'nowhere')) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if changed -%}
        {{ log('Raw source changed (' ~ changed | join('; ') ~ '): rebuilding the incremental '
            ~ 'models in full.', info=true) }}
        {%- for node in incremental_nodes -%}
            {%- set relation = adapter.get_relation(node.database, node.schema, node.alias) -%}
            {%- if relation is not none -%}
                {%- do adapter.drop_relation(relation) -%}
            {%- endif -%}
        {%- endfor -%}
        {#- A hook whose SQL is empty is never committed by dbt: commit the drops here, or the
            models' own connections still see the old tables ("already exists"). -#}
        {%- do adapter.commit() -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}

