{#- The raw files of one table in `directory`: <table_name>.csv, .csv.gz and .parquet, those
    that exist, in name order. The directory is taken literally: glob characters in it are
    escaped, so a directory named 'a[1]' or 'b*' is never read as a pattern. -#}
{% macro find_raw_files(directory, table_name) -%}
    {%- set queries = [] -%}
    {%- for suffix in ['.csv', '.csv.gz', '.parquet'] -%}
        {%- do queries.append("select file from glob("
            ~ sql_string(literal_glob(directory ~ '/' ~ table_name ~ suffix)) ~ ")") -%}
    {%- endfor -%}
    {%- set found = run_query(queries | join(' union all ') ~ ' order by file').columns[0].values() -%}
    {{ return(found | list) }}
{%- endmacro %}


{#- A path as a DuckDB glob pattern that matches only itself: '[', '*' and '?' are put in
    brackets ('[[]', '[*]', '[?]'). -#}
{% macro literal_glob(path) -%}
    {%- set escaped = [] -%}
    {%- for character in path -%}
        {%- do escaped.append('[' ~ character ~ ']' if character in '[*?' else character) -%}
    {%- endfor -%}
    {{ return(escaped | join('')) }}
{%- endmacro %}


{#- The day partitions of one table in `directory` (docs/incremental.md, "Day-partitioned
    landing"): <table_name>/<YYYY-MM-DD>.csv, .csv.gz or .parquet, and Hive-style
    <table_name>/<name>=<YYYY-MM-DD>/<any>.csv, .csv.gz or .parquet, in name order. A file in
    the table's folder whose name is not a valid date (or a folder that is not name=date) is
    an error naming it: a partition must say which day it holds. -#}
{% macro find_raw_partitions(directory, table_name) -%}
    {%- set folder = directory ~ '/' ~ table_name -%}
    {%- set listed = run_query("select file from glob(" ~ sql_string(literal_glob(folder) ~ '/**')
        ~ ") order by file").columns[0].values() | list -%}
    {%- set found = [] -%}
    {#- marker and hidden files of other tools (_SUCCESS, .DS_Store) are not data -#}
    {%- for file in listed if file.split('/')[-1][:1] not in ['_', '.'] -%}
        {%- set relative = file[folder | length + 1:] -%}
        {%- set day = raw_partition_day(relative) -%}
        {%- if day is none -%}
            {{ exceptions.raise_compiler_error(
                "Raw partition file " ~ file ~ " is not named by its day. The files of the '"
                ~ table_name ~ "' partition folder " ~ folder ~ " must be <YYYY-MM-DD>.csv, "
                ~ ".csv.gz or .parquet, or <name>=<YYYY-MM-DD>/<file>.csv, .csv.gz or .parquet "
                ~ "(Hive style). Rename or move the file, then run again.") }}
        {%- endif -%}
        {%- do found.append(file) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#- The day (YYYY-MM-DD) a partition file holds, from its path relative to the table's folder
    ('2025-12-31.csv' or 'date=2025-12-31/part-0.parquet'); none when the path names no valid
    day or has an unknown suffix. -#}
{% macro raw_partition_day(relative) -%}
    {%- set suffix = '(\\.csv|\\.csv\\.gz|\\.parquet)$' -%}
    {%- set by_name = modules.re.match('^(\\d{4}-\\d{2}-\\d{2})' ~ suffix, relative) -%}
    {%- set hive = modules.re.match('^[A-Za-z_][A-Za-z0-9_]*=(\\d{4}-\\d{2}-\\d{2})/[^/]+' ~ suffix, relative) -%}
    {%- set match = by_name or hive -%}
    {%- if not match -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set day = match.group(1) -%}
    {%- set parts = day.split('-') | map('int') | list -%}
    {%- if parts[1] < 1 or parts[1] > 12 or parts[2] < 1
            or parts[2] > [31, 29 if (parts[0] % 4 == 0 and (parts[0] % 100 != 0 or parts[0] % 400 == 0)) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][parts[1] - 1] -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(day) }}
{%- endmacro %}
