{#- The start of an incremental run's window: the latest `timestamp_column` already in this
    model (rows matching `where`, if given) minus var incremental_lookback_days. Rows at or
    after it are recomputed; a late-arriving row dated before it is picked up only by a full
    refresh (dbt build --full-refresh). Only meaningful inside is_incremental().

    The window's start is looked up when the model runs and written into its SQL as a
    timestamp literal, so that DuckDB plans a plain filter (with a scalar subquery it planned a
    nested-loop join of every raw row with the one-row subquery). -#}
{% macro incremental_cutoff(timestamp_column, where=none) -%}
    {%- set lookback = setting('incremental_lookback_days') -%}
    {%- if not execute -%}
        {{ return("cast('1900-01-01' as " ~ dbt.type_timestamp() ~ ")") }}
    {%- endif -%}
    {%- set query -%}
        select
            cast({{ dbt.dateadd(
                'day',
                -(lookback | int),
                "coalesce(max(" ~ timestamp_column ~ "), cast('1900-01-01' as "
                    ~ dbt.type_timestamp() ~ "))",
            ) }} as {{ dbt.type_string() }})
        from {{ this }}
        {%- if where %}
        where {{ where }}
        {%- endif %}
    {%- endset -%}
    {%- set cutoff = run_query(query).columns[0].values()[0] -%}
    cast('{{ cutoff }}' as {{ dbt.type_timestamp() }})
{%- endmacro %}
