{#-
    How to read one raw CSV file (plain or .gz), decided from raw_format(table_name) and the
    file's first lines, before any data is read. Returns a dict:
    - path: the file to read (for cp1252 a UTF-8 copy made by the project's DuckDB plugin,
      since DuckDB reads only UTF-8, UTF-16 and Latin-1);
    - encoding: what read_csv is given;
    - skip: 1 when the file starts with Excel's `sep=<d>` line, else 0;
    - delimiter (and delimiter_label for messages);
    - header: the header's column names, as written.
    Detection covers only what is unambiguous: a BOM (stripped), Excel's `sep=` line, and with
    delimiter 'auto' the one delimiter among , ; tab | that splits the header into the most
    contract columns (an error asks for raw_format.delimiter when two candidates tie). What was
    detected is logged.
-#}
{% macro raw_csv_dialect(file, table_name, contract, fmt) -%}
    {%- set read = raw_csv_first_lines(file, fmt.encoding) -%}
    {%- set path = read.path -%}
    {%- set encoding = read.encoding -%}
    {%- set lines = read.lines -%}
    {%- set first = (lines[0] if lines else '') or '' -%}
    {%- set first = first.lstrip('\ufeff').rstrip('\r') -%}
    {%- set skip = 0 -%}
    {%- set delimiter = fmt.delimiter -%}
    {%- set sep_line = modules.re.match('^"?sep=(.)"?[,;\t|]*$', first) -%}
    {%- if sep_line -%}
        {%- set skip = 1 -%}
        {%- if delimiter == 'auto' -%}
            {%- set delimiter = sep_line.group(1) -%}
            {{ log("Raw file " ~ file ~ ": Excel 'sep=' line, delimiter '" ~ delimiter ~ "'.", info=true) }}
        {%- endif -%}
        {%- set first = ((lines[1] if lines | length > 1 else '') or '').rstrip('\r') -%}
    {%- endif -%}
    {%- if not first | trim -%}
        {%- do raise_on_unreadable_raw_header(file, path, table_name, encoding, fmt.encoding) -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " is empty: it needs at least the header row (columns: see "
            ~ contract.yaml ~ "). Write the header row, or remove the file: a day partition without "
            ~ "rows, or an optional table, may be absent.") }}
    {%- endif -%}

    {%- set contract_names = contract.columns | map(attribute='name') | list -%}
    {%- if delimiter == 'auto' -%}
        {%- set scores = [] -%}
        {%- for candidate in [',', ';', '\t', '|'] -%}
            {%- set matched = [] -%}
            {%- for name in first.split(candidate) -%}
                {%- set key = name | trim | replace('"', '') | lower -%}
                {%- if fmt.columns.get(key, key) in contract_names -%}
                    {%- do matched.append(key) -%}
                {%- endif -%}
            {%- endfor -%}
            {%- do scores.append((matched | length, candidate)) -%}
        {%- endfor -%}
        {%- set ranked = scores | sort(attribute='0', reverse=true) -%}
        {%- if ranked[0][0] == 0 or ranked[0][0] == ranked[1][0] -%}
            {%- do raise_on_unreadable_raw_header(file, path, table_name, encoding, fmt.encoding) -%}
            {{ exceptions.raise_compiler_error(
                "Raw file " ~ file ~ ": cannot tell its delimiter from the header (no single one of "
                ~ "',' ';' tab '|' splits it into the contract's columns, see " ~ contract.yaml
                ~ "). Set raw_format.delimiter, and map renamed headers with raw_column_mapping.") }}
        {%- endif -%}
        {%- set delimiter = ranked[0][1] -%}
        {%- if delimiter != ',' -%}
            {{ log("Raw file " ~ file ~ ": detected delimiter '"
                ~ ('tab' if delimiter == '\t' else delimiter) ~ "'.", info=true) }}
        {%- endif -%}
    {%- endif -%}

    {%- set header = [] -%}
    {%- for name in first.split(delimiter) -%}
        {%- set cleaned = name | trim -%}
        {%- if cleaned.startswith('"') and cleaned.endswith('"') and cleaned | length >= 2 -%}
            {%- set cleaned = cleaned[1:-1] | replace('""', '"') -%}
        {%- endif -%}
        {%- do header.append(cleaned) -%}
    {%- endfor -%}
    {%- set fitting = [] -%}
    {%- for name in header if fmt.columns.get(name | lower, name | lower) in contract_names -%}
        {%- do fitting.append(name) -%}
    {%- endfor -%}
    {%- if not fitting -%}
        {%- do raise_on_unreadable_raw_header(file, path, table_name, encoding, fmt.encoding) -%}
    {%- endif -%}
    {{ return({
        'path': path,
        'encoding': encoding,
        'skip': skip,
        'delimiter': delimiter,
        'delimiter_label': 'tab' if delimiter == '\t' else delimiter,
        'header': header,
    }) }}
{%- endmacro %}


{#- The first two lines of a raw CSV file as text, not parsed as CSV: {'path': the file to
    read, 'encoding': how the reader is told to read it, 'lines': the lines}. `fmt_encoding`
    is raw_format's encoding. -#}
{% macro raw_csv_first_lines(file, fmt_encoding) -%}
    {{ return(adapter.dispatch('raw_csv_first_lines', 'customer_analytics')(file, fmt_encoding)) }}
{%- endmacro %}

{% macro duckdb__raw_csv_first_lines(file, fmt_encoding) -%}
    {%- set path = file -%}
    {%- set encoding = fmt_encoding -%}
    {%- if encoding == 'cp1252' -%}
        {%- set path = run_query(
            "select customer_analytics_utf8_copy(" ~ sql_string(file) ~ ", 'cp1252')"
        ).columns[0].values()[0] -%}
        {%- set encoding = 'utf-8' -%}
    {%- endif -%}
    {#- the first lines as text, not sniffed, so that a malformed data line cannot hide them
        (strict_mode off: Excel ends records with CRLF but breaks lines inside a cell with LF).
        A line DuckDB cannot read (bytes not in the encoding, longer than 2 MB) is skipped, not
        raised: DuckDB's error would print it. A bad data line is reported by the read itself
        (raise_on_malformed_raw_lines), with its column; a bad header line by
        raise_on_unreadable_raw_header, when the header found does not fit. -#}
    {%- set lines = run_query(
        "select line from read_csv(" ~ sql_string(literal_glob(path)) ~ ", header = false, "
        ~ "auto_detect = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', "
        ~ "escape = '', strict_mode = false, parallel = false, ignore_errors = true, encoding = "
        ~ sql_string(encoding) ~ ") limit 2"
    ).columns[0].values() | list -%}
    {{ return({'path': path, 'encoding': encoding, 'lines': lines}) }}
{%- endmacro %}


{#- When the header found does not fit the contract: fail if that is because DuckDB could not
    read the file's first or second line (the header, or the one after Excel's sep= line),
    naming the line and the reason, never its content. One full scan, on this failure path
    only. -#}
{% macro raise_on_unreadable_raw_header(file, path, table_name, read_encoding, encoding) -%}
    {{ return(adapter.dispatch('raise_on_unreadable_raw_header', 'customer_analytics')(
        file, path, table_name, read_encoding, encoding)) }}
{%- endmacro %}

{% macro duckdb__raise_on_unreadable_raw_header(file, path, table_name, read_encoding, encoding) -%}
    {%- set tables = raw_rejects_tables(table_name ~ '_header') -%}
    {%- do run_query(
        "select count(line) from read_csv(" ~ sql_string(literal_glob(path)) ~ ", header = false, "
        ~ "auto_detect = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', "
        ~ "escape = '', strict_mode = false, parallel = false, encoding = "
        ~ sql_string(read_encoding) ~ ", store_rejects = true, rejects_table = "
        ~ sql_string(tables.errors) ~ ", rejects_scan = " ~ sql_string(tables.scans)
        ~ ", rejects_limit = 10)") -%}
    {%- if not raw_rejects_recorded(tables.errors) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rejected = run_query("select line, error_type from temp." ~ tables.errors
        ~ " where line <= 2 order by line limit 1").rows | list -%}
    {%- do run_query("drop table temp." ~ tables.errors) -%}
    {%- do run_query("drop table if exists temp." ~ tables.scans) -%}
    {%- if rejected | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set line, error_type = rejected[0] -%}
    {%- if error_type == 'INVALID ENCODING' -%}
        {%- set reason = "it holds bytes that are not " ~ encoding ~ " text. Set raw_format.encoding "
            ~ "to the file's encoding (utf-8, cp1252, latin-1 or utf-16), or export the file as "
            ~ "UTF-8" -%}
    {%- elif error_type == 'LINE SIZE OVER MAXIMUM' -%}
        {%- set reason = "it is longer than the reader's maximum line size (2 MB). Check that the "
            ~ "file is a CSV export with a header row" -%}
    {%- else -%}
        {%- set reason = "it breaks the CSV rules (" ~ error_type ~ "). Check that the file is a "
            ~ "CSV export with a header row" -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ file ~ " cannot be read at line " ~ line ~ ", where its header should be: "
        ~ reason ~ ", then run again. The line's content is not shown: it may be personal data.") }}
{%- endmacro %}


{#- Spark's name for a raw_format encoding (docs/spark.md: cp1252 needs the profile's
    spark.sql.legacy.javaCharsets). -#}
{% macro spark_encoding(encoding) -%}
    {{ return({'utf-8': 'UTF-8', 'cp1252': 'windows-1252', 'latin-1': 'ISO-8859-1',
        'utf-16': 'UTF-16'}.get(encoding, encoding)) }}
{%- endmacro %}


{#- Spark reads every encoding itself. Bytes that are not text in the encoding arrive as
    U+FFFD (Spark replaces them): raise_on_unreadable_raw_header and raw_scan look for it. -#}
{% macro spark__raw_csv_first_lines(file, fmt_encoding) -%}
    {%- set view = 'customer_analytics_raw_lines' -%}
    {%- do run_query('create or replace temporary view ' ~ view ~ ' (line string) using csv'
        ~ ' options (path ' ~ sql_string(hadoop_literal_glob(file)) ~ ", header 'false',"
        ~ " sep '\\u001f', quote '', escape '', multiLine 'true', encoding "
        ~ sql_string(spark_encoding(fmt_encoding)) ~ ')') -%}
    {%- set lines = run_query('select line from ' ~ view ~ ' limit 2').columns[0].values() | list -%}
    {{ return({'path': file, 'encoding': fmt_encoding, 'lines': lines}) }}
{%- endmacro %}


{% macro spark__raise_on_unreadable_raw_header(file, path, table_name, read_encoding, encoding) -%}
    {%- for line in raw_csv_first_lines(path, read_encoding).lines
            if line is not none and '\ufffd' in line -%}
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " cannot be read at line " ~ loop.index ~ ", where its header "
            ~ "should be: it holds bytes that are not " ~ encoding ~ " text. Set "
            ~ "raw_format.encoding to the file's encoding (utf-8, cp1252, latin-1 or utf-16), or "
            ~ "export the file as UTF-8, then run again. The line's content is not shown: it may "
            ~ "be personal data.") }}
    {%- endfor -%}
    {{ return('') }}
{%- endmacro %}
