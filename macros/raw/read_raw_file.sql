{#-
    The one raw reader: <directory>/<table_name>.csv, .csv.gz or .parquet as a subquery of
    text columns in contract order, plus _source_file. Small metadata queries at compile time
    give clear errors before anything is built:
    - required table, no file        -> error naming the file and what to do;
    - optional table, no file        -> warning, empty relation (downstream fields stay null);
    - more than one file for a table -> error: keep one;
    - a header column twice          -> error naming the file and the column;
    - required column missing        -> error naming the file, column and contract;
    - optional column missing        -> warning, column read as null;
    - extra columns                  -> warning naming them; they are not read.
    The CSV dialect comes from raw_format(table_name): delimiter (or detected from the header,
    and logged), encoding, and the column mapping (file header -> contract column). An Excel
    `sep=<d>` first line sets the delimiter. Values are read as text, never converted here.
-#}
{% macro read_raw_file(directory, table_name, contract, fmt, only_files=none) -%}
    {{ return(adapter.dispatch('read_raw_file', 'customer_analytics')(directory, table_name, contract, fmt, only_files)) }}
{%- endmacro %}

{% macro default__read_raw_file(directory, table_name, contract, fmt, only_files=none) -%}
    {{ exceptions.raise_compiler_error(
        "The raw reader is implemented for DuckDB only (adapter '" ~ adapter.type() ~ "').") }}
{%- endmacro %}

{% macro duckdb__read_raw_file(directory, table_name, contract, fmt, only_files=none) -%}
    {%- set found = find_raw_files(directory, table_name) -%}
    {%- set partitions = find_raw_partitions(directory, table_name) -%}
    {%- set names = table_name ~ '.csv, ' ~ table_name ~ '.csv.gz or ' ~ table_name ~ '.parquet' -%}
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

    {%- if found | length == 0 and partitions | length == 0 -%}
        {%- if contract.required -%}
            {{ exceptions.raise_compiler_error(
                "Required raw file missing: no " ~ names ~ " in " ~ directory ~ ". Put the '"
                ~ table_name ~ "' export there (columns: see " ~ contract.yaml
                ~ "), or one file per day in " ~ directory ~ "/" ~ table_name
                ~ "/ (<YYYY-MM-DD>.csv), or unset var raw_data_path to build the shipped "
                ~ "sample data.") }}
        {%- endif -%}
        {%- do exceptions.warn(
            "Optional raw file missing: no " ~ names ~ " in " ~ directory ~ "; building with an "
            ~ "empty '" ~ table_name ~ "' table, so the fields derived from it stay null.") -%}
        {{ return(empty_relation) }}
    {%- endif -%}
    {%- if found | length > 1 -%}
        {{ exceptions.raise_compiler_error(
            "More than one raw file for '" ~ table_name ~ "' in " ~ directory ~ ": "
            ~ found | join(', ') ~ ". Keep one of them.") }}
    {%- endif -%}

    {#- an incremental run of the raw model reads only the new and changed files -#}
    {%- set to_read = [] -%}
    {%- for file in found + partitions if only_files is none or file in only_files -%}
        {%- do to_read.append(file) -%}
    {%- endfor -%}
    {%- if not to_read -%}
        {{ return(empty_relation) }}
    {%- endif -%}

    {#- each file is checked on its own; files read alike (format, dialect, header) are read
        by one scan -#}
    {%- set groups = {} -%}
    {%- set group_order = [] -%}
    {%- for file in to_read -%}
        {%- set reading = raw_file_reading(file, table_name, contract, fmt) -%}
        {%- if reading.group not in groups -%}
            {%- do groups.update({reading.group: {'reading': reading, 'files': []}}) -%}
            {%- do group_order.append(reading.group) -%}
        {%- endif -%}
        {%- do groups[reading.group].files.append({'file': file, 'path': reading.path}) -%}
    {%- endfor -%}

    (
    {%- for key in group_order %}
        {%- set group = groups[key] %}
        {%- set reading = group.reading %}
        {{ 'union all' if not loop.first }}
        select
            {{ reading.columns_sql }},
        {%- if group.files | length == 1 %}
            {{ sql_string(group.files[0].file) }} as _source_file
        {%- else %}
            case _raw_file
            {%- for entry in group.files %}
                when {{ sql_string(entry.path) }} then {{ sql_string(entry.file) }}
            {%- endfor %}
            end as _source_file
        {%- endif %}
        {%- set paths %}[{% for entry in group.files %}{{ sql_string(literal_glob(entry.path)) }}{{ ', ' if not loop.last }}{% endfor %}]{% endset %}
        {%- if reading.csv is not none %}
        {#- a malformed line is recorded, not raised (DuckDB's error would print it): the
            post-hook raise_on_malformed_raw_lines fails the model, naming line and column -#}
        {%- set rejects = raw_rejects_tables(table_name, loop.index) %}
        {%- set csv = reading.csv %}
        from read_csv(
            {{ paths }},
            header = true, skip = {{ csv.skip }}, delim = {{ sql_string(csv.delimiter) }},
            quote = '"', escape = '"', encoding = {{ sql_string(csv.encoding) }},
            auto_detect = false,{{ " filename = '_raw_file'," if group.files | length > 1 }}
            store_rejects = true, rejects_table = {{ sql_string(rejects.errors) }},
            rejects_scan = {{ sql_string(rejects.scans) }}, rejects_limit = 100,
            columns = {
            {%- for name in csv.header %}
                {{ sql_string(name) }}: 'VARCHAR'{{ ',' if not loop.last }}
            {%- endfor %}
            }
        )
        {%- else %}
        from read_parquet({{ paths }}{{ ", filename = '_raw_file'" if group.files | length > 1 }})
        {%- endif %}
    {%- endfor %}
    )
{%- endmacro %}


{#- How to read one raw file, after checking its header against the contract (errors and
    warnings below): {'path': the file to scan (a UTF-8 copy for cp1252), 'csv': its dialect
    (raw_csv_dialect) or none for Parquet, 'columns_sql': the select list of the contract
    columns as text, 'group': a key equal for files that one scan can read together}. -#}
{% macro raw_file_reading(file, table_name, contract, fmt) -%}
    {%- set is_csv = not file.endswith('.parquet') -%}
    {%- if is_csv -%}
        {%- set csv = raw_csv_dialect(file, table_name, contract, fmt) -%}
        {%- set header = csv.header -%}
    {%- else -%}
        {%- set header = run_query(
            "select column_name from (describe select * from read_parquet("
            ~ sql_string(literal_glob(file)) ~ "))"
        ).columns[0].values() | list -%}
    {%- endif -%}

    {#- match the file's header to contract columns: through the mapping, then by name,
        case- and blank-insensitively -#}
    {%- set contract_names = contract.columns | map(attribute='name') | list -%}
    {%- for header_name, column_name in fmt.columns.items() -%}
        {%- if column_name not in contract_names -%}
            {{ exceptions.raise_compiler_error(
                "Setting raw_column_mapping." ~ table_name ~ " maps '" ~ header_name ~ "' to '"
                ~ column_name ~ "', which is not a column of the raw data contract ("
                ~ contract.yaml ~ "); its columns are " ~ contract_names | join(', ') ~ ".") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set by_name = {} -%}
    {%- set seen = {} -%}
    {%- for name in header -%}
        {%- set key = name | trim | lower -%}
        {%- if key in seen -%}
            {#- a name outside the contract is not shown: without a header row it is a value -#}
            {%- set shown = "the column '" ~ (name | trim) ~ "'"
                if fmt.columns.get(key, key) in contract_names
                else "one name (columns " ~ seen[key] ~ " and " ~ loop.index ~ "; not shown: a "
                ~ "file without a header row would show data)" -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " has " ~ shown ~ " twice in its header. "
                ~ "Rename or remove one of them, then run again.") }}
        {%- endif -%}
        {%- do seen.update({key: loop.index}) -%}
        {%- set column_name = fmt.columns.get(key, key) -%}
        {%- if column_name in by_name -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ " has two columns for '" ~ column_name ~ "' ('"
                ~ by_name[column_name] ~ "' and '" ~ name ~ "'), counting var raw_column_mapping. "
                ~ "Keep one of them.") }}
        {%- endif -%}
        {%- do by_name.update({column_name: name}) -%}
    {%- endfor -%}
    {#- the header names that are contract columns (or mapped): the only ones an error shows -#}
    {%- set known = [] -%}
    {%- for name in header -%}
        {%- if fmt.columns.get(name | trim | lower, name | trim | lower) in contract_names -%}
            {%- do known.append(name | trim) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set missing_optional = [] -%}
    {%- for column in contract.columns -%}
        {%- if column.name not in by_name -%}
            {%- if column.required -%}
                {{ exceptions.raise_compiler_error(
                    "Raw file " ~ file ~ " has no column '" ~ column.name ~ "', which the raw "
                    ~ "data contract requires (" ~ contract.yaml ~ "). Add or rename that column "
                    ~ "in the file's header, or map it with var raw_column_mapping; contract columns "
                    ~ "found" ~ (" (delimiter '" ~ csv.delimiter_label ~ "')" if is_csv else "")
                    ~ ": " ~ (known | join(', ') or 'none') ~ (" and " ~ (header | length - known | length)
                    ~ " other column(s), not shown: a file without a header row would show data"
                    if header | length > known | length else "") ~ ".") }}
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
    {%- for column_name, name in by_name.items() if column_name not in contract_names -%}
        {%- do extra.append(name) -%}
    {%- endfor -%}
    {%- if extra -%}
        {%- do exceptions.warn(
            "Raw file " ~ file ~ " has column(s) outside the raw data contract, ignored: "
            ~ (extra | join(', ')) ~ ".") -%}
    {%- endif -%}


    {%- set columns_sql -%}
        {%- for column in contract.columns %}
            {%- if column.name in by_name %}
            cast({{ '"' ~ by_name[column.name] | replace('"', '""') ~ '"' }} as {{ dbt.type_string() }}) as {{ column.name }}
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as {{ column.name }}
            {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- set dialect = csv if is_csv else none -%}
    {{ return({
        'path': csv.path if is_csv else file,
        'csv': dialect,
        'columns_sql': columns_sql,
        'group': tojson([is_csv, csv.delimiter if is_csv else '', csv.skip if is_csv else 0,
            csv.encoding if is_csv else '', header]),
    }) }}
{%- endmacro %}
