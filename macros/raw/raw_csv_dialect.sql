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
    {%- set path = file -%}
    {%- set encoding = fmt.encoding -%}
    {%- if encoding == 'cp1252' -%}
        {%- set path = run_query(
            "select customer_analytics_utf8_copy(" ~ sql_string(file) ~ ", 'cp1252')"
        ).columns[0].values()[0] -%}
        {%- set encoding = 'utf-8' -%}
    {%- endif -%}
    {#- the first lines as text, not sniffed, so that a malformed data line cannot hide them
        (strict_mode off: Excel ends records with CRLF but breaks lines inside a cell with LF) -#}
    {%- set lines = run_query(
        "select line from read_csv(" ~ sql_string(literal_glob(path)) ~ ", header = false, "
        ~ "auto_detect = false, columns = {'line': 'VARCHAR'}, delim = chr(31), quote = '', "
        ~ "escape = '', strict_mode = false, parallel = false, encoding = " ~ sql_string(encoding)
        ~ ") limit 2"
    ).columns[0].values() | list -%}
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
        {{ exceptions.raise_compiler_error(
            "Raw file " ~ file ~ " is empty: it needs at least the header row (columns: see "
            ~ contract.yaml ~ "). Remove the file if the table is optional.") }}
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
    {{ return({
        'path': path,
        'encoding': encoding,
        'skip': skip,
        'delimiter': delimiter,
        'delimiter_label': 'tab' if delimiter == '\t' else delimiter,
        'header': header,
    }) }}
{%- endmacro %}
