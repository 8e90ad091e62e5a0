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
    {#- an incremental run reads only the new and changed files (raw_load_plan) -#}
    {%- set only_files = raw_load_plan(table_name).read if is_incremental() else none -%}
    {{ without_erased_customers(read_raw_file(directory, table_name, contract, fmt, only_files), contract) }}
{%- endmacro %}


{#- The raw rows without the customers of the erasure requests (docs/privacy.md), by the
    contract's meta.erase: a row naming an erased customer in a `row` column is left out, a
    `value` column naming one is blanked, and a row without any customer is left out when its
    `linked` column (a cookie) has the value of a left-out row. Keys compare as staging reads
    them (trimmed). The ids are read at run time (erased_customer_ids), never written into SQL
    text; without any, the rows are returned as read. -#}
{% macro without_erased_customers(rows_sql, contract) -%}
    {%- set by_row = contract.columns | selectattr('erase', 'equalto', 'row') | map(attribute='name') | list -%}
    {%- set by_value = contract.columns | selectattr('erase', 'equalto', 'value') | map(attribute='name') | list -%}
    {%- set linked = contract.columns | selectattr('erase', 'equalto', 'linked') | map(attribute='name') | list -%}
    {%- if not (by_row or by_value or linked) -%}
        {{ return(rows_sql) }}
    {%- endif -%}
    {#- no erasure request (the usual case): the rows as read, without a second look at them -#}
    {%- if erased_customer_count() == 0 -%}
        {{ return(rows_sql) }}
    {%- endif -%}
    {#- read_rows not materialized: a cookie's rows are looked up again in left_out, and a CTE
        read twice would otherwise be held whole (the XL sessions spilled past 35 GB of disk) #}
    (
        with

        read_rows as {{ not_materialized() }} (
            select * from {{ rows_sql }}
        ),

        erased as (
            {{ erased_customer_ids() }}
        ),

        left_out as (
            select * from read_rows
            where
            {%- for column in by_row %}
                {{ 'or ' if not loop.first }}trim({{ column }}) in (select erased.customer_id from erased)
            {%- endfor %}
        )

        select
        {%- for column in contract.columns %}
            {%- if column.name in by_value %}
            case
                when trim({{ column.name }}) in (select erased.customer_id from erased) then null
                else {{ column.name }}
            end as {{ column.name }},
            {%- else %}
            {{ column.name }},
            {%- endif %}
        {%- endfor %}
            _source_file
        from read_rows
        where
            true
        {%- for column in by_row %}
            and not exists (
                select 1 from erased where erased.customer_id = trim(read_rows.{{ column }})
            )
        {%- endfor %}
        {%- for column in linked %}
            and not (
                {%- for key in by_row %}
                {{ 'and ' if not loop.first }}nullif(trim(read_rows.{{ key }}), '') is null
                {%- endfor %}
                and exists (
                    select 1 from left_out
                    where trim(left_out.{{ column }}) = trim(read_rows.{{ column }})
                )
            )
        {%- endfor %}
    )
{%- endmacro %}


{#- The directory the raw files are read from: var raw_data_path, else the environment's
    CUSTOMER_ANALYTICS_LANDING_DIR (the one setting make, dbt and Dagster share), else the
    shipped sample exports in <project>/data/raw; relative, made absolute on DuckDB. -#}
{% macro raw_data_directory() -%}
    {%- set path = setting('raw_data_path') -%}
    {%- if path == '' -%}
        {%- set path = landing_dir_from_env() -%}
    {%- endif -%}
    {%- if path == '' -%}
        {%- set project_dir = (env_var('DBT_PROJECT_DIR', '') or flags.PROJECT_DIR or '.') | string -%}
        {%- set path = project_dir.rstrip('/') ~ '/data/raw' -%}
    {%- endif -%}
    {#- relative: made absolute on DuckDB (the plugin's customer_analytics_absolute_path), so
        that one folder is one landing location whichever entry point names it -#}
    {%- if execute and target.type == 'duckdb' and not path.startswith('/') -%}
        {%- set path = run_query('select customer_analytics_absolute_path('
            ~ sql_string(path) ~ ')').columns[0].values()[0] -%}
    {%- endif -%}
    {{ return(path) }}
{%- endmacro %}
