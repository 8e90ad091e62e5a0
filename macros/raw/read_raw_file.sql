{#-
    Bring-your-own-data reader: <path>/<table_name>.csv or .parquet as a subquery of text
    columns in contract order. Runs small metadata queries at compile time to give clear errors:
    - required table, no file       -> error naming the file and what to do;
    - optional table, no file        -> warning, empty relation (downstream fields stay null);
    - required column missing        -> error naming the file, column and contract;
    - optional column missing        -> warning, column read as null;
    - extra columns                  -> warning naming them; they are not read.
    CSV is read with an explicit dialect (comma, double quote, header, all text) and the
    encoding in var raw_csv_encoding ('utf-8', BOM accepted; or 'latin-1'): nothing is sniffed.
-#}
{% macro read_raw_file(path, table_name, contract) -%}
    {{ return(adapter.dispatch('read_raw_file', 'customer_analytics')(path, table_name, contract)) }}
{%- endmacro %}

{% macro default__read_raw_file(path, table_name, contract) -%}
    {{ exceptions.raise_compiler_error(
        "raw_data_path is implemented for DuckDB only (adapter '" ~ adapter.type() ~ "'): "
        ~ "load the raw files into the raw schema and leave raw_data_path empty.") }}
{%- endmacro %}

{% macro duckdb__read_raw_file(path, table_name, contract) -%}
    {%- set directory = path.rstrip('/') -%}
    {%- set encoding = var('raw_csv_encoding', 'utf-8') | string | lower -%}
    {%- if encoding not in ['utf-8', 'utf8', 'latin-1', 'latin1'] -%}
        {{ exceptions.raise_compiler_error(
            "var raw_csv_encoding is '" ~ encoding ~ "': use 'utf-8' or 'latin-1'.") }}
    {%- endif -%}
    {%- set csv_file = directory ~ '/' ~ table_name ~ '.csv' -%}
    {%- set parquet_file = directory ~ '/' ~ table_name ~ '.parquet' -%}
    {%- set found = find_raw_files(directory, table_name) -%}

    {%- if found | length == 0 -%}
        {%- if contract.required -%}
            {{ exceptions.raise_compiler_error(
                "Required raw file missing: neither " ~ csv_file ~ " nor " ~ parquet_file
                ~ " exists. Put the '" ~ table_name ~ "' export there (columns: see "
                ~ contract.yaml ~ "), or unset var raw_data_path to build the shipped seeds.") }}
        {%- endif -%}
        {%- do exceptions.warn(
            "Optional raw file missing: no " ~ table_name ~ ".csv or " ~ table_name
            ~ ".parquet in " ~ directory ~ "; building with an empty '" ~ table_name
            ~ "' table, so the fields derived from it stay null.") -%}
        {%- set empty_relation -%}
        (
            select
            {%- for column in contract.columns %}
                cast(null as {{ dbt.type_string() }}) as {{ column.name }},
            {%- endfor %}
                cast(null as {{ dbt.type_string() }}) as _source_file
            where 1 = 0
        )
        {%- endset -%}
        {{ return(empty_relation) }}
    {%- endif -%}
    {%- if found | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "Both " ~ csv_file ~ " and " ~ parquet_file ~ " exist: keep one of them.") }}
    {%- endif -%}

    {%- set file = found[0] -%}
    {%- if file.endswith('.csv') -%}
        {%- set dialect = "header = true, delim = ',', quote = '\"', escape = '\"', encoding = "
            ~ sql_string(encoding) -%}
        {#- the header is read as one line of text, not sniffed, so that a malformed data
            line cannot hide it (the data read below then reports that line) -#}
        {%- set first_line = run_query(
            "select line from read_csv(" ~ sql_string(file) ~ ", header = false, "
            ~ "auto_detect = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', "
            ~ "escape = '', parallel = false, encoding = " ~ sql_string(encoding) ~ ") limit 1"
        ).columns[0].values() -%}
        {%- if first_line | length == 0 or not first_line[0] -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " is empty: it needs at least the header row (columns: see "
                ~ contract.yaml ~ "). Remove the file if the table is optional.") }}
        {%- endif -%}
        {%- set header = [] -%}
        {%- for name in first_line[0].split(',') -%}
            {%- do header.append(name | trim | replace('"', '')) -%}
        {%- endfor -%}
    {%- else -%}
        {%- set header = run_query(
            "select column_name from (describe select * from read_parquet("
            ~ sql_string(file) ~ "))"
        ).columns[0].values() -%}
    {%- endif -%}

    {#- match contract columns to the file's header, case- and blank-insensitively -#}
    {%- set by_name = {} -%}
    {%- for name in header -%}
        {%- do by_name.update({name | trim | lower: name}) -%}
    {%- endfor -%}
    {%- set contract_names = contract.columns | map(attribute='name') | list -%}
    {%- set missing_optional = [] -%}
    {%- for column in contract.columns -%}
        {%- if column.name not in by_name -%}
            {%- if column.required -%}
                {{ exceptions.raise_compiler_error(
                    "Raw file " ~ file ~ " has no column '" ~ column.name ~ "', which the raw "
                    ~ "data contract requires (" ~ contract.yaml ~ "). Add or rename that column "
                    ~ "in the file's header; columns found: " ~ (header | join(', ')) ~ ".") }}
            {%- endif -%}
            {%- do missing_optional.append(column.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if missing_optional -%}
        {%- do exceptions.warn(
            "Raw file " ~ file ~ " has no optional column(s) " ~ (missing_optional | join(', '))
            ~ ": read as null.") -%}
    {%- endif -%}
    {%- set extra = [] -%}
    {%- for key in by_name if key not in contract_names -%}
        {%- do extra.append(by_name[key]) -%}
    {%- endfor -%}
    {%- if extra -%}
        {%- do exceptions.warn(
            "Raw file " ~ file ~ " has column(s) outside the raw data contract, ignored: "
            ~ (extra | join(', ')) ~ ".") -%}
    {%- endif -%}

    (
        select
        {%- for column in contract.columns %}
            {%- if column.name in by_name %}
            cast({{ adapter.quote(by_name[column.name]) }} as {{ dbt.type_string() }}) as {{ column.name }},
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as {{ column.name }},
            {%- endif %}
        {%- endfor %}
            {{ sql_string(file) }} as _source_file
        {%- if file.endswith('.csv') %}
        from read_csv(
            {{ sql_string(file) }}, {{ dialect }}, auto_detect = false,
            columns = {
            {%- for name in header %}
                {{ sql_string(name) }}: 'VARCHAR'{{ ',' if not loop.last }}
            {%- endfor %}
            }
        )
        {%- else %}
        from read_parquet({{ sql_string(file) }})
        {%- endif %}
    )
{%- endmacro %}
