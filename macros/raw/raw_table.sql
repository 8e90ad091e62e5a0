{#-
    The raw layer's one entry point. Returns a parenthesised subquery with every column of the
    raw data contract (the source's columns in _<source>__sources.yml) as text, so that staging
    can parse, validate and quarantine each value itself.

    - var raw_data_path empty (default): the shipped seed behind source(source_name, table_name).
    - var raw_data_path set: <raw_data_path>/<table_name>.csv or .parquet (see read_raw_file).
    - var raw_landed true (set by the Dagster definitions): the table the orchestrator landed
      in the raw schema with land_raw_tables; no seed is involved.
-#}
{% macro raw_table(source_name, table_name) -%}
    {%- set path = var('raw_data_path', '') | string | trim -%}
    {%- set landed = var('raw_landed', false) -%}
    {%- if landed and path != '' -%}
        {{ exceptions.raise_compiler_error(
            "vars raw_landed and raw_data_path exclude each other: the orchestrator lands the "
            ~ "files itself, so leave raw_data_path empty.") }}
    {%- endif -%}
    {%- if landed -%}
        {%- do source(source_name, table_name) -%}
    {%- elif path == '' -%}
        {#- register the dependency on the seed that backs this source -#}
        {%- do ref(table_name) -%}
        {%- do source(source_name, table_name) -%}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('(select 1)') }}
    {%- endif -%}
    {%- set contract = raw_contract(source_name, table_name) -%}
    {%- if landed -%}
        (
            select
            {%- for column in contract.columns %}
                {{ adapter.quote(column.name) }},
            {%- endfor %}
                _source_file
            from {{ source(source_name, table_name) }}
        )
    {%- elif path == '' -%}
        (
            select
            {%- for column in contract.columns %}
                cast({{ adapter.quote(column.name) }} as {{ dbt.type_string() }}) as {{ column.name }},
            {%- endfor %}
                '{{ source_name }}.{{ table_name }} (seed)' as _source_file
            from {{ source(source_name, table_name) }}
        )
    {%- else -%}
        {{ read_raw_file(path, table_name, contract) }}
    {%- endif -%}
{%- endmacro %}


{#- The contract of one raw table, from the parsed project: its columns in YAML order, each
    with `required` (meta.required, default true), and whether the table itself is required. -#}
{% macro raw_contract(source_name, table_name) -%}
    {%- set matches = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | list -%}
    {%- if matches | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "No source '" ~ source_name ~ "." ~ table_name ~ "' is declared in models/staging/.") }}
    {%- endif -%}
    {%- set node = matches[0] -%}
    {%- set columns = [] -%}
    {%- for name, column in node.columns.items() -%}
        {%- do columns.append({
            'name': name,
            'required': column.meta.get('required', true),
        }) -%}
    {%- endfor -%}
    {{ return({
        'columns': columns,
        'required': node.meta.get('required', true),
        'yaml': node.original_file_path,
    }) }}
{%- endmacro %}
