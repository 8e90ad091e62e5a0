{#- The _source_file the rows of one raw table get in this run (see raw_table): the seed's
    label, the bring-your-own-data file, or the landed table's file; none if there is none. -#}
{% macro current_raw_source_file(source_name, table_name) -%}
    {%- set path = var('raw_data_path', '') | string | trim -%}
    {%- if var('raw_landed', false) -%}
        {%- set landed = adapter.get_relation(
            target.database, generate_schema_name('raw', none), table_name) -%}
        {%- if landed is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set files = run_query(
            'select _source_file from ' ~ landed ~ ' limit 1').columns[0].values() -%}
    {%- elif path == '' -%}
        {{ return(source_name ~ '.' ~ table_name ~ ' (seed)') }}
    {%- else -%}
        {%- set files = find_raw_files(path.rstrip('/'), table_name) -%}
    {%- endif -%}
    {{ return(files[0] if files | length == 1 else none) }}
{%- endmacro %}
