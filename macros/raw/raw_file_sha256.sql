{#- The SHA-256 (lowercase hex) of a file's bytes, as Python's hashlib computes it; none when
    the file cannot be read. The path is taken literally. On DuckDB the project's dbt plugin
    reads the file in chunks (orchestration/dbt_plugin.py): DuckDB's own sha256(content) over
    read_blob holds the whole file in memory, and a file of 4 GB or more fails. -#}
{% macro raw_file_sha256(path) -%}
    {{ return(adapter.dispatch('raw_file_sha256')(path)) }}
{%- endmacro %}


{% macro default__raw_file_sha256(path) -%}
    {{ return(none) }}
{%- endmacro %}


{% macro duckdb__raw_file_sha256(path) -%}
    {%- set digests = run_query('select customer_analytics_file_sha256('
        ~ sql_string(path) ~ ')').columns[0].values() | list -%}
    {{ return(digests[0] if digests | length == 1 else none) }}
{%- endmacro %}


{#- Why a .gz file is not a whole gzip stream ("it ends before its compressed data does (…)",
    "its compressed data is corrupt"), or none when it is. DuckDB reads a truncated gzip file without an
    error, as the rows before the cut. On DuckDB the project's dbt plugin decompresses the file
    in chunks to check it; elsewhere (Spark, whose reader fails on such a file) none. -#}
{% macro raw_gzip_problem(path) -%}
    {{ return(adapter.dispatch('raw_gzip_problem')(path)) }}
{%- endmacro %}


{% macro default__raw_gzip_problem(path) -%}
    {{ return(none) }}
{%- endmacro %}


{% macro duckdb__raw_gzip_problem(path) -%}
    {{ return(run_query('select customer_analytics_gzip_problem(' ~ sql_string(path)
        ~ ')').columns[0].values()[0]) }}
{%- endmacro %}
