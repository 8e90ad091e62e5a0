{#- staging.<name> (table_name, source_file, raw_format), created if missing. -#}
{% macro source_state_relation(name) -%}
    {%- set schema = generate_schema_name('staging', none) -%}
    {%- set relation = adapter.quote(schema) ~ '.' ~ name -%}
    {%- do run_query('create schema if not exists ' ~ adapter.quote(schema)) -%}
    {%- do run_query('create table if not exists ' ~ relation
        ~ ' (table_name varchar primary key, source_file varchar, raw_format varchar)') -%}
    {{ return(relation) }}
{%- endmacro %}


{#- Post-hook of the raw models: record which file raw.<table> now holds, the SHA-256 of its
    bytes (the landing sensor's first tick compares it with the landing directory, so a
    warehouse built from the files there is not rebuilt) and the export dialect it was read
    with (staging.raw_source_state; the GX raw suites read the dialect), and the privacy state
    it was read under (fingerprints of the pseudonymisation key and of the erasure requests:
    publishing refuses a build read before the erasure requests last changed). -#}
{% macro record_raw_source() -%}
    {%- if not execute -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set state = source_state_relation('raw_source_state') -%}
    {%- do run_query('alter table ' ~ state ~ ' add column if not exists source_sha256 varchar') -%}
    {%- do run_query('alter table ' ~ state ~ ' add column if not exists privacy_state varchar') -%}
    {%- set files = run_query('select distinct _source_file from ' ~ this
        ~ ' where _source_file is not null order by 1 limit 1').columns[0].values() | list -%}
    {%- set digest = raw_file_sha256(files[0]) if files else none -%}
    {%- do run_query('delete from ' ~ state ~ ' where table_name = ' ~ sql_string(table_name)) -%}
    {%- do run_query('insert into ' ~ state
        ~ ' (table_name, source_file, raw_format, source_sha256, privacy_state) values ('
        ~ sql_string(table_name) ~ ', '
        ~ sql_string(files[0] if files else 'none') ~ ', '
        ~ sql_string(tojson(raw_format(table_name), sort_keys=true)) ~ ', '
        ~ (sql_string(digest) if digest else 'null') ~ ', customer_analytics_privacy_state())') -%}
    {{ return('') }}
{%- endmacro %}
