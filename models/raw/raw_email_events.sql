{{ config(alias="email_events") }}

{#- One row per line of the raw email_events export, every contract column as text plus
    _source_file: the landing of <raw_data_path>/email_events.csv, .csv.gz or .parquet through the one
    raw reader (macro raw_table), whichever way the build was started. -#}
select * from {{ raw_table('email', 'email_events') }}
