{#- The raw files of one table in `directory` (bring-your-own-data): <table_name>.csv and
    <table_name>.parquet, those that exist, in name order. DuckDB's glob. -#}
{% macro find_raw_files(directory, table_name) -%}
    {%- set found = run_query(
        "select file from glob(" ~ sql_string(directory ~ '/' ~ table_name ~ '.csv')
        ~ ") union all select file from glob("
        ~ sql_string(directory ~ '/' ~ table_name ~ '.parquet') ~ ") order by file"
    ).columns[0].values() -%}
    {{ return(found | list) }}
{%- endmacro %}
