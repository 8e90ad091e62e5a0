{#- The incremental strategy of an incremental model: `on_duckdb` on DuckDB (delete+insert, or
    append where a pre-hook deletes what is rebuilt); on Spark `merge` where full results are
    merged (full_results_merged), else insert_overwrite, which is never used there since every
    incremental model is built in full. dbt_project.yml sets the same for the models that
    name no strategy of their own. -#}
{% macro incremental_strategy_for(on_duckdb) -%}
    {%- set merged = full_results_merged() -%}
    {%- if target.type == 'duckdb' -%}
        {{ return(on_duckdb) }}
    {%- endif -%}
    {{ return('merge' if merged else 'insert_overwrite') }}
{%- endmacro %}
