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
