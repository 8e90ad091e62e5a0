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
