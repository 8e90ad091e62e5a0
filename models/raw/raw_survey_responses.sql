{{ config(alias="survey_responses") }}

{#- One row per line of the raw survey_responses export, every contract column as text plus
    _source_file: the landing of <raw_data_path>/survey_responses.csv, .csv.gz or .parquet through the one
    raw reader (macro raw_table), whichever way the build was started. -#}
select * from {{ raw_table('nps', 'survey_responses') }}
