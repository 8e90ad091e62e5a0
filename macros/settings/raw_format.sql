{#-
    The export dialect of one raw table: project-wide settings (var raw_format), overridden per
    table (var raw_format_overrides: {<table>: {...}}), plus the table's column mapping (var
    raw_column_mapping: {<table>: {<file header>: <contract column>}}). Every key is validated
    here; a bad one stops dbt with a sentence naming the setting, the value and the form
    allowed. Returns a dict with the keys of raw_format_defaults() and `columns`.
-#}
{% macro raw_format_defaults() -%}
    {{ return({
        'delimiter': 'auto',
        'decimal_separator': '.',
        'thousands_separator': '',
        'timestamp_format': '',
        'date_format': '',
        'timezone': 'UTC',
        'encoding': 'utf-8',
    }) }}
{%- endmacro %}


{% macro raw_format(table_name) -%}
    {%- set defaults = raw_format_defaults() -%}
    {#- the environment's settings (CUSTOMER_ANALYTICS_RAW_FORMAT …, shared with Dagster),
        then the dbt vars over them -#}
    {%- set project = {} -%}
    {%- set overrides_all = {} -%}
    {%- set mapping_all = {} -%}
    {%- for target, env_name, var_name in [
            (project, 'CUSTOMER_ANALYTICS_RAW_FORMAT', 'raw_format'),
            (overrides_all, 'CUSTOMER_ANALYTICS_RAW_FORMAT_OVERRIDES', 'raw_format_overrides'),
            (mapping_all, 'CUSTOMER_ANALYTICS_RAW_COLUMN_MAPPING', 'raw_column_mapping')] -%}
        {%- set given = var(var_name, {}) -%}
        {%- set given = {} if given is none else given -%}
        {%- if given is not mapping -%}
            {{ exceptions.raise_compiler_error("Setting " ~ var_name ~ " (dbt var) is '"
                ~ (given | string)[:60] ~ "': it must be a mapping, e.g. "
                ~ ("{delimiter: ';', decimal_separator: ','}" if var_name == 'raw_format'
                    else "{orders: {...}}") ~ ".") }}
        {%- endif -%}
        {%- do target.update(json_from_env(env_name)) -%}
        {%- do target.update(given) -%}
    {%- endfor -%}
    {%- if env_var('CUSTOMER_ANALYTICS_CSV_ENCODING', '') | trim and 'encoding' not in project -%}
        {%- do project.update({'encoding': env_var('CUSTOMER_ANALYTICS_CSV_ENCODING') | trim}) -%}
    {%- endif -%}
    {%- set tables = raw_table_names() -%}
    {%- for name, value in [('raw_format_overrides', overrides_all), ('raw_column_mapping', mapping_all)] -%}
        {%- for key in value -%}
            {%- if key not in tables -%}
                {{ exceptions.raise_compiler_error("Setting " ~ name ~ " (dbt var) names table '"
                    ~ (key | string)[:60] ~ "': the raw tables are " ~ tables | join(', ') ~ ".") }}
            {%- endif -%}
            {%- if value[key] is not mapping -%}
                {{ exceptions.raise_compiler_error("Setting " ~ name ~ "." ~ key ~ " (dbt var) is '"
                    ~ (value[key] | string)[:60] ~ "': it must be a mapping.") }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set table_overrides = overrides_all.get(table_name, {}) -%}

    {%- set result = {} -%}
    {%- do result.update(defaults) -%}
    {#- var raw_csv_encoding: the older name of raw_format.encoding -#}
    {%- set legacy_encoding = var('raw_csv_encoding', none) -%}
    {%- if legacy_encoding is not none -%}
        {%- do result.update({'encoding': legacy_encoding}) -%}
    {%- endif -%}
    {%- for origin, given in [('raw_format', project), ('raw_format_overrides.' ~ table_name, table_overrides)] -%}
        {%- for key in given -%}
            {%- if key not in defaults -%}
                {{ exceptions.raise_compiler_error("Setting " ~ origin ~ " (dbt var) has key '"
                    ~ (key | string)[:60] ~ "': the keys are " ~ defaults.keys() | list | join(', ') ~ ".") }}
            {%- endif -%}
            {%- do result.update({key: given[key]}) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- set where = "Setting raw_format" ~ ("_overrides." ~ table_name if table_overrides else "") -%}
    {%- for key in defaults -%}
        {%- if result[key] is not string -%}
            {{ raw_format_error(where, key, result, "it must be text.") }}
        {%- endif -%}
    {%- endfor -%}

    {%- set delimiters = {'auto': 'auto', ',': ',', ';': ';', '\t': '\t', 'tab': '\t', '|': '|'} -%}
    {%- if result.delimiter not in delimiters -%}
        {{ raw_format_error(where, 'delimiter', result, "use auto (detected from the header), ',', ';', tab or '|'.") }}
    {%- endif -%}
    {%- do result.update({'delimiter': delimiters[result.delimiter]}) -%}

    {%- if result.decimal_separator not in ['.', ','] -%}
        {{ raw_format_error(where, 'decimal_separator', result, "use '.' or ','.") }}
    {%- endif -%}
    {%- if result.thousands_separator not in ['', '.', ',', ' ', "'"] -%}
        {{ raw_format_error(where, 'thousands_separator', result, "use '' (none), '.', ',', ' ' or \"'\".") }}
    {%- endif -%}
    {%- if result.thousands_separator == result.decimal_separator -%}
        {{ raw_format_error(where, 'thousands_separator', result, "it must differ from decimal_separator ('"
            ~ result.decimal_separator ~ "').") }}
    {%- endif -%}

    {%- for key in ['timestamp_format', 'date_format', 'timezone', 'encoding'] -%}
        {%- if modules.re.search('[\x00-\x1f\x7f]', result[key]) -%}
            {{ raw_format_error(where, key, result, "it must not contain control characters.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set ts = result.timestamp_format -%}
    {%- if ts != '' and not (
            modules.re.match('^(%[dmYHMS]|[ .:/T-])+$', ts)
            and ts.count('%d') == 1 and ts.count('%m') == 1 and ts.count('%Y') == 1
            and ts.count('%H') == 1 and ts.count('%M') == 1 and ts.count('%S') <= 1) -%}
        {{ raw_format_error(where, 'timestamp_format', result, "use '' for ISO 8601, or a format with %d, %m, %Y, %H, %M "
            ~ "(and optionally %S) once each, separated by ' ', '.', ':', '/', '-' or 'T', "
            ~ "e.g. '%d.%m.%Y %H:%M'.") }}
    {%- endif -%}
    {%- set df = result.date_format -%}
    {%- if df != '' and not (
            modules.re.match('^(%[dmY]|[./-])+$', df)
            and df.count('%d') == 1 and df.count('%m') == 1 and df.count('%Y') == 1) -%}
        {{ raw_format_error(where, 'date_format', result, "use '' for YYYY-MM-DD, or a format with %d, %m and %Y once each, "
            ~ "separated by '.', '/' or '-', e.g. '%d.%m.%Y'.") }}
    {%- endif -%}

    {%- if result.timezone != 'UTC' and result.timezone not in modules.pytz.all_timezones -%}
        {{ raw_format_error(where, 'timezone', result, "use an IANA time zone name such as Europe/Berlin, or UTC.") }}
    {%- endif -%}

    {%- set encodings = {
        'utf-8': 'utf-8', 'utf8': 'utf-8', 'utf-8-sig': 'utf-8',
        'cp1252': 'cp1252', 'windows-1252': 'cp1252',
        'latin-1': 'latin-1', 'latin1': 'latin-1', 'iso-8859-1': 'latin-1',
        'utf-16': 'utf-16', 'utf16': 'utf-16',
    } -%}
    {%- if result.encoding | lower not in encodings -%}
        {{ raw_format_error(where, 'encoding', result, "use utf-8 (a BOM is accepted), cp1252 (Excel on Windows), latin-1 "
            ~ "or utf-16 (with a BOM).") }}
    {%- endif -%}
    {%- do result.update({'encoding': encodings[result.encoding | lower]}) -%}

    {%- set columns = {} -%}
    {%- set mapping = mapping_all.get(table_name, {}) -%}
    {%- for header, column in mapping.items() -%}
        {%- if header is not string or column is not string
                or modules.re.search('[\x00-\x1f\x7f]', header)
                or modules.re.search('[\x00-\x1f\x7f]', column)
                or not modules.re.match('^[a-z_]+$', column) -%}
            {{ exceptions.raise_compiler_error("Setting raw_column_mapping." ~ table_name
                ~ " (dbt var) maps '" ~ (header | string)[:60] ~ "' to '" ~ (column | string)[:60]
                ~ "': map a file header (text without control characters) to a contract column "
                ~ "name, e.g. {Bestellnummer: order_id}.") }}
        {%- endif -%}
        {%- if execute -%}
            {%- set contract_names = [] -%}
            {%- for node in graph.sources.values() if node.name == table_name -%}
                {%- do contract_names.extend(node.columns.keys() | list) -%}
            {%- endfor -%}
            {%- if column not in contract_names -%}
                {{ exceptions.raise_compiler_error("Setting raw_column_mapping." ~ table_name
                    ~ " (dbt var) maps '" ~ (header | string)[:60] ~ "' to '" ~ column
                    ~ "', which is not a column of the raw data contract; its columns are "
                    ~ contract_names | join(', ') ~ ".") }}
            {%- endif -%}
        {%- endif -%}
        {%- do columns.update({header | trim | lower: column}) -%}
    {%- endfor -%}
    {%- do result.update({'columns': columns}) -%}
    {{ return(result) }}
{%- endmacro %}


{% macro raw_format_error(where, key, result, allowed) -%}
    {{ exceptions.raise_compiler_error(where ~ "." ~ key ~ " (dbt var) is '"
        ~ modules.re.sub('[\x00-\x1f\x7f]', '?', (result[key] | string)[:60]) ~ "': " ~ allowed) }}
{%- endmacro %}
