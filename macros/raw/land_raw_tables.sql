{#-
    Operation for the orchestrator: land the raw files of a directory in the raw schema, one
    table per contract table, every column as text plus _source_file, with exactly the checks
    and messages of the bring-your-own-data reader (read_raw_file). Then staging runs with
    var raw_landed. Usage:
      dbt run-operation land_raw_tables --args "{directory: /path/to/landing}"
    (CSV encoding from var raw_csv_encoding, as for raw_data_path)
-#}
{% macro land_raw_tables(directory) -%}
    {%- set raw_tables = [
        ('crm', 'customers'), ('shop', 'orders'), ('web_analytics', 'sessions'),
        ('nps', 'survey_responses'), ('email', 'email_events'),
    ] -%}
    {%- set schema = generate_schema_name('raw', none) -%}
    {%- do run_query('create schema if not exists ' ~ adapter.quote(schema)) -%}
    {%- for source_name, table_name in raw_tables -%}
        {%- set contract = raw_contract(source_name, table_name) -%}
        {%- set relation = read_raw_file(directory, table_name, contract) -%}
        {%- do run_query(
            'create or replace table ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(table_name)
            ~ ' as select * from ' ~ relation ~ ' as landed'
        ) -%}
        {%- set rows = run_query(
            'select count(*) from ' ~ adapter.quote(schema) ~ '.' ~ adapter.quote(table_name)
        ).columns[0].values()[0] -%}
        {{ log('landed ' ~ table_name ~ ': ' ~ rows ~ ' rows', info=true) }}
    {%- endfor -%}
{%- endmacro %}
