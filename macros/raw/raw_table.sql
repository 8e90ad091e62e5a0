{#-
    The raw layer's one entry point, for every way in (make build, dbt build with or without
    var raw_data_path, the Dagster job): the raw rows of one contract table, read from
    <raw_data_path>/<table_name>.csv, .csv.gz or .parquet by read_raw_file, as a
    parenthesised subquery with every column of the raw data contract (the source's columns in
    _<source>__sources.yml) as text, plus _source_file (the file read). Staging then parses,
    validates and quarantines each value itself.

    var raw_data_path empty (the default) reads the shipped sample exports in data/raw/.
-#}
{% macro raw_table(source_name, table_name) -%}
    {%- set directory = raw_data_directory() -%}
    {%- set fmt = raw_format(table_name) -%}
    {%- if not execute -%}
        {{ return('(select 1)') }}
    {%- endif -%}
    {%- set contract = raw_contract(source_name, table_name) -%}
    {{ read_raw_file(directory, table_name, contract, fmt) }}
{%- endmacro %}


{#- The directory the raw files are read from: var raw_data_path, else the environment's
    CUSTOMER_ANALYTICS_LANDING_DIR (the one setting make, dbt and Dagster share), else the
    shipped sample exports in <project>/data/raw. -#}
{% macro raw_data_directory() -%}
    {%- set path = setting('raw_data_path') -%}
    {%- if path != '' -%}
        {{ return(path) }}
    {%- endif -%}
    {%- set landing = landing_dir_from_env() -%}
    {%- if landing != '' -%}
        {{ return(landing) }}
    {%- endif -%}
    {%- set project_dir = (env_var('DBT_PROJECT_DIR', '') or flags.PROJECT_DIR or '.') | string -%}
    {{ return(project_dir.rstrip('/') ~ '/data/raw') }}
{%- endmacro %}
