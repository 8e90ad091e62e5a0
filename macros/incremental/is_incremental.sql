{#- dbt's is_incremental, for this project: false wherever the engine keeps no incremental
    state (incremental_state_kept), so that a model on Spark always computes its full result,
    also when that result is merged into the existing table (full_results_merged); otherwise
    dbt's own rule. -#}
{% macro is_incremental() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
    {{ return(relation is not none and relation.type == 'table'
        and model.config.materialized == 'incremental' and not should_full_refresh()) }}
{%- endmacro %}
