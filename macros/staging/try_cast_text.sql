{#- Cast text to a type, giving null where the text does not parse (so staging can
    quarantine the row). dbt.safe_cast is a plain cast on some adapters (dbt-duckdb), hence
    this dispatch. -#}
{% macro try_cast_text(column, type) -%}
    {{ return(adapter.dispatch('try_cast_text', 'customer_analytics')(column, type)) }}
{%- endmacro %}

{% macro default__try_cast_text(column, type) -%}
    {{ dbt.safe_cast(column, type) }}
{%- endmacro %}

{% macro duckdb__try_cast_text(column, type) -%}
    try_cast({{ column }} as {{ type }})
{%- endmacro %}
