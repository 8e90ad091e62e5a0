{#-
    Malformed CSV lines fail the build with a message built from where and what, never from
    the line: DuckDB's own CSV errors print the whole line ("Original Line: ..."), and a raw
    line holds personal data. So the raw reader reads CSV files with store_rejects (a bad line
    is recorded in a temporary table instead of raising), and the post-hook of the raw models,
    raise_on_malformed_raw_lines, fails the model when that table holds anything: with the
    file, each line's number and column (from the contract header) and the rule it breaks,
    taken from the rejects table's line, column and error type only (its csv_line and
    error_message columns are never read). The model's transaction is rolled back, so the raw
    table keeps what the last good build landed, and nothing downstream runs.
-#}

{#- The temporary tables read_csv records one raw table's rejected lines in, named per dbt
    invocation (DuckDB appends to an existing rejects table); `scan` numbers the scans of one
    read (the raw reader reads files of different dialects by separate scans). -#}
{% macro raw_rejects_tables(table_name, scan=none) -%}
    {%- set suffix = (invocation_id | string | replace('-', ''))[:12]
        ~ ('_s' ~ scan if scan is not none else '') -%}
    {{ return({
        'errors': 'raw_rejects_' ~ table_name ~ '_' ~ suffix,
        'scans': 'raw_reject_scans_' ~ table_name ~ '_' ~ suffix,
    }) }}
{%- endmacro %}


{#- Whether read_csv recorded rejected lines in this session's temporary table `name`. -#}
{% macro raw_rejects_recorded(name) -%}
    {{ return(run_query(
        "select count(*) from duckdb_tables() where temporary and table_name = "
        ~ sql_string(name)).columns[0].values()[0] > 0) }}
{%- endmacro %}


{#- Post-hook of the raw models: fail when the raw reader rejected lines of a CSV file. -#}
{% macro raise_on_malformed_raw_lines() -%}
    {#- Spark: the raw reader checks its files before it reads them (spark__raw_scan) -#}
    {%- if not execute or adapter.type() != 'duckdb' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set base = raw_rejects_tables(table_name) -%}
    {%- set recorded = [] -%}
    {%- for name in run_query(
            "select table_name from duckdb_tables() where temporary and (table_name = "
            ~ sql_string(base.errors) ~ " or starts_with(table_name, "
            ~ sql_string(base.errors ~ '_s') ~ ")) order by table_name").columns[0].values() -%}
        {%- do recorded.append(name) -%}
    {%- endfor -%}
    {%- set failed = [] -%}
    {%- for errors in recorded -%}
        {%- set scans = errors | replace('raw_rejects_', 'raw_reject_scans_', 1) -%}
        {#- line, column and rule only: csv_line and error_message hold the line's values -#}
        {%- set rejects = run_query(
            "select line, column_idx, column_name, error_type, scan_id, file_id from temp." ~ errors
            ~ " order by scan_id, file_id, line, column_idx").rows | list -%}
        {%- if rejects and not failed -%}
            {%- set first = rejects[0] -%}
            {%- set paths = run_query("select file_path from temp." ~ scans ~ " where scan_id = "
                ~ first[4] ~ " and file_id = " ~ first[5]).columns[0].values() | list -%}
            {%- set lines = [] -%}
            {%- for row in rejects if row[4] == first[4] and row[5] == first[5] -%}
                {%- do lines.append([row[0], row[1], row[2], row[3]]) -%}
            {%- endfor -%}
            {%- do failed.append({'path': paths[0] if paths else none, 'rejects': lines}) -%}
        {%- endif -%}
        {%- do run_query("drop table temp." ~ errors) -%}
        {%- do run_query("drop table if exists temp." ~ scans) -%}
    {%- endfor -%}
    {%- if not failed -%}
        {{ return('') }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(malformed_raw_lines_message(
        raw_file_read_from(failed[0].path, table_name), raw_format(table_name).encoding,
        failed[0].rejects)) }}
{%- endmacro %}


{#- The raw file a scan read `path` for: the path itself, or for a UTF-8 copy (cp1252) the
    table's file it was made from (the copy is named <file name>-<folder>-<digest>.csv). -#}
{% macro raw_file_read_from(path, table_name) -%}
    {%- set directory = raw_data_directory() -%}
    {%- set files = find_raw_files(directory, table_name) + find_raw_partitions(directory, table_name) -%}
    {%- if path in files -%}
        {{ return(path) }}
    {%- endif -%}
    {%- set copy = (path or '').split('/')[-1] -%}
    {%- for file in files -%}
        {%- set stem = file.split('/')[-1] | replace('.csv.gz', '') | replace('.csv', '') -%}
        {%- if copy.startswith(stem ~ '-') -%}
            {{ return(file) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files[0] if files | length == 1 else directory ~ '/' ~ table_name) }}
{%- endmacro %}


{#- One paragraph for the rejected lines of a raw file: where (file, lines, columns) and which
    rule, what to do, and that values are not shown. `rejects`: rows of (line, column_idx,
    column_name, error_type) as DuckDB's rejects table records them, in line order, at most
    `limit` of them. -#}
{% macro malformed_raw_lines_message(file, encoding, rejects, shown=3, limit=100) -%}
    {%- set lines = [] -%}
    {%- set by_line = {} -%}
    {%- set kinds = [] -%}
    {%- for line, column_idx, column_name, error_type in rejects -%}
        {%- do kinds.append(error_type) -%}
        {%- if line not in by_line -%}
            {%- do lines.append(line) -%}
            {%- do by_line.update({line: []}) -%}
        {%- endif -%}
        {%- do by_line[line].append({'idx': column_idx, 'name': column_name, 'type': error_type}) -%}
    {%- endfor -%}

    {%- set sentences = [] -%}
    {%- for line in lines[:shown] -%}
        {%- set errors = by_line[line] -%}
        {%- set types = errors | map(attribute='type') | list -%}
        {%- set names = errors | map(attribute='name') | reject('none') | unique | list -%}
        {%- set where = "line " ~ line ~ (", column" ~ ("s " if names | length > 1 else " ")
            ~ names | join(', ') if names else "") -%}
        {%- if 'MISSING COLUMNS' in types -%}
            {%- set missing = errors | selectattr('type', 'equalto', 'MISSING COLUMNS') | list -%}
            {%- set present = missing | map(attribute='idx') | min -%}
            {%- set rule = "line " ~ line ~ " has " ~ present ~ " field(s) where the header has "
                ~ (present + missing | length) ~ ": no value for "
                ~ missing | map(attribute='name') | join(', ') -%}
        {%- elif 'FIELD COUNT' in types -%}
            {#- Spark's CSV reader tells a miscounted record, not its count -#}
            {%- set rule = "line " ~ line ~ " does not have the header's number of fields" -%}
        {%- elif 'TOO MANY COLUMNS' in types -%}
            {%- set extra = errors | selectattr('type', 'equalto', 'TOO MANY COLUMNS')
                | map(attribute='idx') | list -%}
            {%- set rule = "line " ~ line ~ " has " ~ (extra | max) ~ " fields where the header has "
                ~ ((extra | min) - 1) -%}
        {%- elif 'UNQUOTED VALUE' in types -%}
            {%- set rule = where ~ ": a value in double quotes is not closed (or text follows its "
                ~ "closing quote)" -%}
        {%- elif 'INVALID ENCODING' in types -%}
            {%- set rule = where ~ ": bytes that are not " ~ encoding ~ " text" -%}
        {%- elif 'LINE SIZE OVER MAXIMUM' in types -%}
            {%- set rule = "line " ~ line ~ " is longer than the reader's maximum line size (2 MB)" -%}
        {%- else -%}
            {%- set rule = where ~ ": breaks the CSV rules (" ~ types | unique | join(', ') ~ ")" -%}
        {%- endif -%}
        {%- do sentences.append(rule) -%}
    {%- endfor -%}
    {%- set more = lines | length - shown -%}
    {%- if more > 0 -%}
        {%- do sentences.append("and " ~ ("at least " if rejects | length >= limit else "")
            ~ more ~ " more line(s)") -%}
    {%- endif -%}

    {%- if 'INVALID ENCODING' in kinds -%}
        {%- set todo = "Set raw_format.encoding to the file's encoding (utf-8, cp1252, latin-1 or "
            ~ "utf-16; it is " ~ encoding ~ " now), or export the file as UTF-8, then run again." -%}
    {%- else -%}
        {%- set todo = "Fix or re-export the line(s): every line needs exactly the header's "
            ~ "columns, separated by the delimiter, and a double quote inside a quoted value "
            ~ "is written twice (\"\"). Then run again." -%}
    {%- endif -%}
    {{ return(
        "Raw file " ~ file ~ " is malformed: " ~ sentences | join('; ') ~ ". " ~ todo
        ~ " Lines are counted from the file's first line, the header included (a quoted value"
        ~ " spanning lines counts once); their values are not shown (they may be personal data)."
        ~ " Nothing was built from this file.") }}
{%- endmacro %}
