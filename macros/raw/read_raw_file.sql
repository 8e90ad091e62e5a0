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
    `sep=<d>` first line sets the delimiter. Values are read as text, never converted here; a
    typed Parquet column is written as text staging parses (raw_parquet_text).
-#}
{% macro read_raw_file(directory, table_name, contract, fmt, only_files=none) -%}
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
    {{ return(adapter.dispatch('raw_scan', 'customer_analytics')(table_name, contract, groups, group_order)) }}
{%- endmacro %}


{#- The scan of the files read_raw_file found, grouped by how they are read: one subquery of
    the contract columns as text plus _source_file. -#}
{% macro default__raw_scan(table_name, contract, groups, group_order) -%}
    {{ exceptions.raise_compiler_error(
        "The raw reader has no implementation for adapter '" ~ adapter.type() ~ "': add "
        ~ adapter.type() ~ "__raw_scan to macros/raw/read_raw_file.sql.") }}
{%- endmacro %}

{% macro duckdb__raw_scan(table_name, contract, groups, group_order) -%}
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
    warnings below): {'path': the file to scan (on DuckDB a UTF-8 copy for cp1252), 'csv': its
    dialect (raw_csv_dialect) or none for Parquet, 'columns_sql': the select list of the
    contract columns as text (DuckDB), 'header': the file's column names, 'by_name': contract
    column -> header name, 'group': a key equal for files that one scan can read together}. -#}
{% macro raw_file_reading(file, table_name, contract, fmt) -%}
    {%- set is_csv = not file.endswith('.parquet') -%}
    {%- if is_csv -%}
        {%- set csv = raw_csv_dialect(file, table_name, contract, fmt) -%}
        {%- set header = csv.header -%}
    {%- else -%}
        {%- set types = {} -%}
        {%- set header = [] -%}
        {%- for name, type in raw_parquet_schema(file) -%}
            {%- do header.append(name) -%}
            {%- do types.update({name: type}) -%}
        {%- endfor -%}
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


    {#- each contract column's text: a CSV value as it is, a Parquet value as raw_parquet_text
        writes it (Spark's scan selects these too) -#}
    {%- if not is_csv -%}
        {%- do raise_on_typed_values_under_a_text_notation(file, table_name, contract, by_name, types, fmt) -%}
    {%- endif -%}
    {%- set texts = {} -%}
    {%- for column in contract.columns if column.name in by_name -%}
        {%- if is_csv -%}
            {%- do texts.update({column.name: 'cast(' ~ raw_quoted_name(by_name[column.name]) ~ ' as '
                ~ dbt.type_string() ~ ')'}) -%}
        {%- else -%}
            {%- do texts.update({column.name: raw_parquet_text(by_name[column.name],
                types[by_name[column.name]], column, fmt)}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set columns_sql -%}
        {%- for column in contract.columns %}
            {%- if column.name in by_name %}
            {{ texts[column.name] }} as {{ column.name }}
            {%- else %}
            cast(null as {{ dbt.type_string() }}) as {{ column.name }}
            {%- endif %}{{ ',' if not loop.last }}
        {%- endfor %}
    {%- endset -%}
    {%- set dialect = csv if is_csv else none -%}
    {#- files read by one scan have the same column types: DuckDB reads every Parquet file of a
        scan with the first one's (a DOUBLE read as a BIGINT would lose its fraction) -#}
    {{ return({
        'path': csv.path if is_csv else file,
        'csv': dialect,
        'columns_sql': columns_sql,
        'texts': texts,
        'header': header,
        'by_name': by_name,
        'group': tojson([is_csv, csv.delimiter if is_csv else '', csv.skip if is_csv else 0,
            csv.encoding if is_csv else '', header, none if is_csv else types | dictsort | list]),
    }) }}
{%- endmacro %}


{#- The columns of a Parquet raw file, in file order: [name, type] pairs, the type in capitals
    as the engine names it (DuckDB: VARCHAR, DECIMAL(12,2), TIMESTAMP WITH TIME ZONE …; Spark:
    STRING, DECIMAL(12,2), TIMESTAMP, TIMESTAMP_NTZ …). -#}
{% macro raw_parquet_schema(file) -%}
    {{ return(adapter.dispatch('raw_parquet_schema', 'customer_analytics')(file)) }}
{%- endmacro %}

{% macro duckdb__raw_parquet_schema(file) -%}
    {%- set schema = [] -%}
    {%- for row in run_query("select column_name, column_type from (describe select * from read_parquet("
            ~ sql_string(literal_glob(file)) ~ "))").rows -%}
        {%- do schema.append([row[0], row[1] | upper]) -%}
    {%- endfor -%}
    {{ return(schema) }}
{%- endmacro %}

{% macro spark__raw_parquet_schema(file) -%}
    {%- set schema = [] -%}
    {%- for row in run_query('describe query select * from parquet.`'
            ~ hadoop_literal_glob(file) | replace('`', '``') ~ '`').rows -%}
        {%- do schema.append([row[0], row[1] | upper]) -%}
    {%- endfor -%}
    {{ return(schema) }}
{%- endmacro %}


{#- A column name quoted for the engine's SQL. -#}
{% macro raw_quoted_name(name) -%}
    {{ return(adapter.dispatch('raw_quoted_name', 'customer_analytics')(name)) }}
{%- endmacro %}

{% macro default__raw_quoted_name(name) -%}
    {{ return('"' ~ name | replace('"', '""') ~ '"') }}
{%- endmacro %}

{% macro spark__raw_quoted_name(name) -%}
    {{ return('`' ~ name | replace('`', '``') ~ '`') }}
{%- endmacro %}


{#- The text of a Parquet column `name` of type `parquet_type` (raw_parquet_schema) for the
    contract column `column` (raw_contract_column), as staging parses it with fmt
    (raw_format). Text columns are read as they are. A typed value needs no notation: it is
    written in the default one, an instant with its offset (so raw_format.timezone applies
    only to a timestamp without a zone, as in text), a timestamp at midnight in a date column
    as its date (pandas writes dates as timestamps; an instant's midnight in UTC), and an
    amount with the table's decimal separator. A typed timestamp or date under a
    timestamp_format or date_format (notations for text exports) is refused before
    (raise_on_typed_values_under_a_text_notation): writing the value in that notation could
    drop its seconds or its century. -#}
{% macro raw_parquet_text(name, parquet_type, column, fmt) -%}
    {%- set quoted = raw_quoted_name(name) -%}
    {%- set is_text = parquet_type in ['VARCHAR', 'STRING'] or parquet_type.startswith('VARCHAR(')
        or parquet_type.startswith('CHAR') -%}
    {%- if is_text -%}
        {{ return('cast(' ~ quoted ~ ' as ' ~ dbt.type_string() ~ ')') }}
    {%- endif -%}
    {%- set is_temporal = 'TIMESTAMP' in parquet_type or parquet_type == 'DATE' -%}
    {%- set text = adapter.dispatch('raw_parquet_value_text', 'customer_analytics')(
        quoted, parquet_type, column.type) -%}
    {%- set is_fractional = parquet_type in ['DOUBLE', 'FLOAT', 'REAL']
        or (parquet_type.startswith('DECIMAL(') and not parquet_type.endswith(',0)')) -%}
    {%- if column.type != 'amount' and is_fractional -%}
        {#- an id or count written as a float (pandas does, for a column with a null): a whole
            number as an integer ('1', not '1.0'), up to 2^53, where doubles stay exact -#}
        {%- set text = 'case when ' ~ quoted ~ ' = floor(' ~ quoted ~ ') and abs(' ~ quoted
            ~ ') <= 9007199254740992 then cast(cast(' ~ quoted ~ ' as bigint) as '
            ~ dbt.type_string() ~ ') else ' ~ text ~ ' end' -%}
    {%- endif -%}
    {%- if column.type == 'amount' and not is_temporal and fmt.decimal_separator != '.' -%}
        {%- set text = 'replace(' ~ text ~ ", '.', " ~ sql_string(fmt.decimal_separator) ~ ')' -%}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Fail when a Parquet file holds typed timestamps or dates in a table whose raw_format sets
    timestamp_format or date_format (notations for text exports): one error naming the file,
    every such column by setting, and what to set. -#}
{% macro raise_on_typed_values_under_a_text_notation(file, table_name, contract, by_name, types, fmt) -%}
    {%- set clauses = [] -%}
    {%- set keys = [] -%}
    {%- for type, key in [('timestamp', 'timestamp_format'), ('date', 'date_format')] if fmt[key] != '' -%}
        {%- set typed = [] -%}
        {%- for column in contract.columns if column.type == type and column.name in by_name -%}
            {%- set parquet_type = types[by_name[column.name]] -%}
            {%- if 'TIMESTAMP' in parquet_type or parquet_type == 'DATE' -%}
                {%- do typed.append(column.name ~ ' (' ~ parquet_type ~ ')') -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if typed -%}
            {%- do clauses.append(key ~ " '" ~ fmt[key] ~ "' for column" ~ ('s' if typed | length > 1)
                ~ ' ' ~ typed | join(', ')) -%}
            {%- do keys.append(key ~ ": ''") -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if clauses -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " holds typed values in columns that table " ~ table_name
            ~ " reads in a notation for text exports (setting raw_format): " ~ clauses | join('; ')
            ~ ". Typed values need none: set raw_format_overrides: {" ~ table_name ~ ": {"
            ~ keys | join(', ') ~ "}} for a table landed as typed Parquet, or land the table "
            ~ "as text in that notation, then run again.") }}
    {%- endif -%}
{%- endmacro %}

{#- A timestamp in ISO form with microseconds, an instant in UTC ('Z'), the same text on both
    engines: '2025-12-30 05:53:32.000000Z' (a timestamp without a zone without the 'Z'); in a
    date column, '2025-12-30' when its time is midnight. -#}
{% macro duckdb__raw_parquet_value_text(quoted, parquet_type, contract_type) -%}
    {%- if not parquet_type.startswith('TIMESTAMP') -%}
        {{ return('cast(' ~ quoted ~ ' as varchar)') }}
    {%- endif -%}
    {%- set is_instant = parquet_type == 'TIMESTAMP WITH TIME ZONE' -%}
    {%- set wall = "timezone('UTC', " ~ quoted ~ ")" if is_instant else quoted -%}
    {%- set text = 'strftime(' ~ wall ~ ", '%Y-%m-%d %H:%M:%S.%f" ~ ('Z' if is_instant) ~ "')" -%}
    {%- if contract_type == 'date' -%}
        {%- set text = 'case when cast(' ~ wall ~ " as time) = time '00:00:00' then strftime("
            ~ wall ~ ", '%Y-%m-%d') else " ~ text ~ ' end' -%}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}

{#- Spark's cast would write an instant (TIMESTAMP) in the session's time zone without one,
    which raw_format.timezone would then move; date_format writes its offset, 'Z' in the
    profile's UTC session. -#}
{% macro spark__raw_parquet_value_text(quoted, parquet_type, contract_type) -%}
    {%- if parquet_type not in ['TIMESTAMP', 'TIMESTAMP_NTZ'] -%}
        {{ return('cast(' ~ quoted ~ ' as string)') }}
    {%- endif -%}
    {%- set text = 'date_format(' ~ quoted ~ ", 'yyyy-MM-dd HH:mm:ss.SSSSSS"
        ~ ('XXX' if parquet_type == 'TIMESTAMP') ~ "')" -%}
    {%- if contract_type == 'date' -%}
        {%- set text = 'case when date_format(' ~ quoted ~ ", 'HH:mm:ss.SSSSSS') = '00:00:00.000000'"
            ~ ' then date_format(' ~ quoted ~ ", 'yyyy-MM-dd') else " ~ text ~ ' end' -%}
    {%- endif -%}
    {{ return(text) }}
{%- endmacro %}


{#- Spark: one temporary view per file (Spark's CSV or Parquet source; CSV columns by
    position, every value text), so that _source_file is the path as found. A CSV file is read
    whole by one task (multiLine: a quoted value may hold line breaks), so its records are
    numbered in file order; the header (and Excel's sep= line) are dropped by that number.
    Before anything is built, the CSV files are checked: a record with another number of
    fields than the header, or holding bytes that are not text in the encoding (Spark reads
    them as U+FFFD), fails the model, named by file and line, never shown
    (malformed_raw_lines_message). -#}
{% macro spark__raw_scan(table_name, contract, groups, group_order) -%}
    {%- set selects = [] -%}
    {%- for key in group_order -%}
        {%- set reading = groups[key].reading -%}
        {%- set csv = reading.csv -%}
        {%- for entry in groups[key].files -%}
            {%- set view = 'customer_analytics_raw_' ~ table_name ~ '_' ~ selects | length -%}
            {%- set path = sql_string(hadoop_literal_glob(entry.path)) -%}
            {%- set positions = {} -%}
            {%- for name in reading.header -%}
                {%- do positions.update({name: loop.index}) -%}
            {%- endfor -%}
            {%- if csv is not none -%}
                {%- set fields = [] -%}
                {%- for name in reading.header -%}
                    {%- do fields.append('c' ~ loop.index ~ ' string') -%}
                {%- endfor -%}
                {%- do run_query('create or replace temporary view ' ~ view ~ ' ('
                    ~ fields | join(', ') ~ ', _corrupt_record string) using csv options (path '
                    ~ path ~ ", header 'false', sep " ~ sql_string(csv.delimiter)
                    ~ ", quote '\"', escape '\"', multiLine 'true', mode 'PERMISSIVE',"
                    ~ " columnNameOfCorruptRecord '_corrupt_record', encoding "
                    ~ sql_string(spark_encoding(csv.encoding)) ~ ')') -%}
                {%- do spark_raise_on_malformed_raw_records(entry.file, csv, view, reading) -%}
                {%- set source = '(select *, monotonically_increasing_id() as _record_index from '
                    ~ view ~ ') where _record_index > ' ~ csv.skip -%}
            {%- else -%}
                {%- do run_query('create or replace temporary view ' ~ view
                    ~ ' using parquet options (path ' ~ path ~ ')') -%}
                {%- set source = view -%}
            {%- endif -%}
            {%- set select_list = [] -%}
            {%- for column in contract.columns -%}
                {%- set name = reading.by_name.get(column.name) -%}
                {%- if name is none -%}
                    {%- do select_list.append('cast(null as string) as ' ~ column.name) -%}
                {%- elif csv is not none -%}
                    {%- do select_list.append('c' ~ positions[name] ~ ' as ' ~ column.name) -%}
                {%- else -%}
                    {%- do select_list.append(reading.texts[column.name] ~ ' as ' ~ column.name) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do selects.append('select ' ~ select_list | join(', ') ~ ', '
                ~ sql_string(entry.file) ~ ' as _source_file from ' ~ source) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return('(\n' ~ selects | join('\nunion all\n') ~ '\n)') }}
{%- endmacro %}


{#- Spark: fail when a CSV file read by `view` holds malformed records (see spark__raw_scan).
    Records are counted from the file's first line, as DuckDB counts lines. -#}
{% macro spark_raise_on_malformed_raw_records(file, csv, view, reading) -%}
    {%- set columns = [] -%}
    {%- set undecoded = [] -%}
    {%- for name in reading.header -%}
        {%- do columns.append('c' ~ loop.index) -%}
        {%- do undecoded.append('when contains(c' ~ loop.index ~ ", '\\ufffd') then " ~ loop.index) -%}
    {%- endfor -%}
    {%- set rows = run_query('select _record_index + 1, _corrupt_record is not null, case '
        ~ undecoded | join(' ') ~ ' end from (select *, monotonically_increasing_id() as'
        ~ ' _record_index from ' ~ view ~ ') where _record_index > ' ~ csv.skip
        ~ " and (_corrupt_record is not null or contains(concat_ws('', " ~ columns | join(', ')
        ~ "), '\\ufffd')) order by 1 limit 100").rows | list -%}
    {%- if not rows -%}
        {{ return('') }}
    {%- endif -%}
    {#- a column is named only when it is a contract column: other header names may be data -#}
    {%- set shown = reading.by_name.values() | list -%}
    {%- set rejects = [] -%}
    {%- for line, miscounted, column_idx in rows -%}
        {%- if miscounted -%}
            {%- do rejects.append([line, none, none, 'FIELD COUNT']) -%}
        {%- else -%}
            {%- set name = reading.header[column_idx - 1] -%}
            {%- do rejects.append([line, column_idx, name if name in shown else none,
                'INVALID ENCODING']) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error(malformed_raw_lines_message(file, csv.encoding, rejects)) }}
{%- endmacro %}
