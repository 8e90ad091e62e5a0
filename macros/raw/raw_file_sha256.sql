{#- The SHA-256 (lowercase hex) of a file's bytes, as Python's hashlib computes it; none when
    the file cannot be read. The path is taken literally (glob characters escaped). -#}
{% macro raw_file_sha256(path) -%}
    {{ return(adapter.dispatch('raw_file_sha256')(path)) }}
{%- endmacro %}


{% macro default__raw_file_sha256(path) -%}
    {{ return(none) }}
{%- endmacro %}


{% macro duckdb__raw_file_sha256(path) -%}
    {%- set digests = run_query('select sha256(content) from read_blob('
        ~ sql_string(literal_glob(path)) ~ ')').columns[0].values() | list -%}
    {{ return(digests[0] if digests | length == 1 else none) }}
{%- endmacro %}
