{#-
    The raw layer's one entry point. Returns a parenthesised subquery with every column of the
    raw data contract (the source's columns in _<source>__sources.yml) as text, so that staging
    can parse, validate and quarantine each value itself.

    - var raw_data_path empty (default): the shipped seed behind source(source_name, table_name).
    - var raw_data_path set: <raw_data_path>/<table_name>.csv or .parquet (see read_raw_file).
-#}
{% macro raw_table(source_name, table_name) -%}
    {%- set path = var('raw_data_path', '') | string | trim -%}
    {%- if path == '' -%}
        {#- register the dependency on the seed that backs this source -#}
        {%- do ref(table_name) -%}
        {%- do source(source_name, table_name) -%}
    {%- endif -%}
    {%- if not execute -%}
        {{ return('(select 1)') }}
    {%- endif -%}
    {%- set contract = raw_contract(source_name, table_name) -%}
    {%- if path == '' -%}
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
