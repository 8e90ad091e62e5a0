{#- The raw files of one table in `directory`: <table_name>.csv, .csv.gz and .parquet, those
    that exist, in name order. The directory is taken literally: glob characters in it are
    escaped, so a directory named 'a[1]' or 'b*' is never read as a pattern. -#}
{% macro find_raw_files(directory, table_name) -%}
    {{ return(adapter.dispatch('find_raw_files', 'customer_analytics')(directory, table_name)) }}
{%- endmacro %}

{% macro duckdb__find_raw_files(directory, table_name) -%}
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
    {%- set listed = raw_folder_files(folder) -%}
    {%- set found = [] -%}
    {#- marker and hidden files and folders of other tools (_SUCCESS, .DS_Store,
        .ipynb_checkpoints/, _temporary/) are not data -#}
    {%- for file in listed -%}
        {%- set relative = file[folder | length + 1:] -%}
        {%- set hidden = [] -%}
        {%- for part in relative.split('/') if part[:1] in ['_', '.'] -%}
            {%- do hidden.append(part) -%}
        {%- endfor -%}
        {%- if not hidden -%}
            {%- set day = raw_partition_day(relative) -%}
            {%- if day is none and raw_partition_day(relative.lower()) is not none -%}
                {{ exceptions.raise_compiler_error(
                    "Raw partition file " ~ file ~ " has its suffix in capitals. The files of the '"
                    ~ table_name ~ "' partition folder " ~ folder ~ " end in .csv, .csv.gz or "
                    ~ ".parquet, in small letters. Rename the file, then run again.") }}
            {%- elif day is none -%}
                {{ exceptions.raise_compiler_error(
                    "Raw partition file " ~ file ~ " is not named by its day. The files of the '"
                    ~ table_name ~ "' partition folder " ~ folder ~ " must be <YYYY-MM-DD>.csv, "
                    ~ ".csv.gz or .parquet, or <name>=<YYYY-MM-DD>/<file>.csv, .csv.gz or .parquet "
                    ~ "(Hive style). Rename or move the file, then run again.") }}
            {%- endif -%}
            {%- do found.append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}


{#- The day (YYYY-MM-DD) a partition file holds, from its path relative to the table's folder
    ('2025-12-31.csv' or 'date=2025-12-31/part-0.parquet'); none when the path names no valid
    day or has an unknown suffix. -#}
{% macro raw_partition_day(relative) -%}
    {%- set suffix = '(\\.csv|\\.csv\\.gz|\\.parquet)$' -%}
    {%- set by_name = modules.re.match('^([0-9]{4}-[0-9]{2}-[0-9]{2})' ~ suffix, relative) -%}
    {%- set hive = modules.re.match('^[A-Za-z_][A-Za-z0-9_]*=([0-9]{4}-[0-9]{2}-[0-9]{2})/[^/]+' ~ suffix, relative) -%}
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


{#- Every file under `folder` (at any depth), in name order; none when it does not exist.
    Symbolic links are followed to the depths a partition can have (a day file, a Hive day
    folder and one level below, where a file is an error naming it). -#}
{% macro raw_folder_files(folder) -%}
    {{ return(adapter.dispatch('raw_folder_files', 'customer_analytics')(folder)) }}
{%- endmacro %}

{#- DuckDB's recursive glob ('**') skips linked files and folders, which the globs of one,
    two and three levels ('*', '*/*', '*/*/*') list: the union of all four. -#}
{% macro duckdb__raw_folder_files(folder) -%}
    {%- set queries = [] -%}
    {%- for pattern in ['/**', '/*', '/*/*', '/*/*/*'] -%}
        {%- do queries.append("select file from glob(" ~ sql_string(literal_glob(folder) ~ pattern) ~ ")") -%}
    {%- endfor -%}
    {{ return(run_query(queries | join(' union ') ~ ' order by file').columns[0].values() | list) }}
{%- endmacro %}


{#- Spark: every file under `directory` (recursively; Spark skips names starting with '_' or
    '.'), listed by Spark's binaryFile source (the contents are not read), as paths that start
    with `directory` as given, like DuckDB's glob returns them. A directory that does not
    exist is Spark's error, naming it. -#}
{% macro spark_raw_directory_files(directory) -%}
    {%- set view = 'customer_analytics_raw_listing' -%}
    {%- do run_query('create or replace temporary view ' ~ view ~ ' using binaryFile options (path '
        ~ sql_string(hadoop_literal_glob(directory)) ~ ", recursiveFileLookup 'true')") -%}
    {%- set listed = run_query("select url_decode(replace(path, '+', '%2B')) from " ~ view
        ~ ' order by 1').columns[0].values() | list -%}
    {%- set root = spark_absolute_path(directory) -%}
    {%- set files = [] -%}
    {%- for uri in listed -%}
        {%- set path = modules.re.sub('^file:(//)?', '', uri) -%}
        {%- if path.startswith(root ~ '/') -%}
            {%- do files.append(directory ~ '/' ~ path[root | length + 1:]) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(files) }}
{%- endmacro %}


{#- `path` as an absolute, normalised local path: relative to the Spark driver's working
    directory, '.' and '..' resolved, no trailing '/'. -#}
{% macro spark_absolute_path(path) -%}
    {%- if not path.startswith('/') -%}
        {%- set cwd = run_query("select reflect('java.lang.System', 'getProperty', 'user.dir')")
            .columns[0].values()[0] -%}
        {%- set path = cwd ~ '/' ~ path -%}
    {%- endif -%}
    {%- set parts = [] -%}
    {%- for part in path.split('/') if part not in ['', '.'] -%}
        {%- if part == '..' -%}
            {%- if parts -%}{%- do parts.pop() -%}{%- endif -%}
        {%- else -%}
            {%- do parts.append(part) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('/' ~ parts | join('/')) }}
{%- endmacro %}


{#- A local path as a Hadoop glob pattern that matches only itself (backslash before each of
    \ * ? [ ] { }). -#}
{% macro hadoop_literal_glob(path) -%}
    {%- set escaped = [] -%}
    {%- for character in path -%}
        {%- do escaped.append('\\' ~ character if character in '\\*?[]{}' else character) -%}
    {%- endfor -%}
    {{ return(escaped | join('')) }}
{%- endmacro %}


{% macro spark__find_raw_files(directory, table_name) -%}
    {%- set wanted = [] -%}
    {%- for suffix in ['.csv', '.csv.gz', '.parquet'] -%}
        {%- do wanted.append(directory ~ '/' ~ table_name ~ suffix) -%}
    {%- endfor -%}
    {%- set found = [] -%}
    {%- for file in spark_raw_directory_files(directory) if file in wanted -%}
        {%- do found.append(file) -%}
    {%- endfor -%}
    {{ return(found | sort) }}
{%- endmacro %}


{% macro spark__raw_folder_files(folder) -%}
    {%- set parent = folder.rsplit('/', 1)[0] -%}
    {%- set found = [] -%}
    {%- for file in spark_raw_directory_files(parent) if file.startswith(folder ~ '/') -%}
        {%- do found.append(file) -%}
    {%- endfor -%}
    {{ return(found | sort) }}
{%- endmacro %}


{#- Spark: which of `paths` (absolute local files) exist, without failing on those that do
    not: one listing of a Hadoop glob that alternates them with dbt_project.yml, which exists
    (Spark fails only when a glob matches nothing). -#}
{% macro spark_files_exist(paths) -%}
    {%- set anchor = spark_absolute_path(
        (env_var('DBT_PROJECT_DIR', '') or flags.PROJECT_DIR or '.') | string) ~ '/dbt_project.yml' -%}
    {%- set alternatives = [] -%}
    {%- for path in paths + [anchor] -%}
        {%- do alternatives.append(hadoop_literal_glob(path[1:]) | replace(',', '\\,')) -%}
    {%- endfor -%}
    {#- every path is absolute: the alternation follows the root -#}
    {%- do run_query('create or replace temporary view customer_analytics_files_exist using'
        ~ ' binaryFile options (path ' ~ sql_string('/{' ~ alternatives | join(',') ~ '}') ~ ')') -%}
    {%- set listed = [] -%}
    {%- for uri in run_query("select url_decode(replace(path, '+', '%2B')) from"
            ~ ' customer_analytics_files_exist').columns[0].values() -%}
        {%- do listed.append(modules.re.sub('^file:(//)?', '', uri)) -%}
    {%- endfor -%}
    {%- set found = [] -%}
    {%- for path in paths if path in listed -%}
        {%- do found.append(path) -%}
    {%- endfor -%}
    {{ return(found) }}
{%- endmacro %}
