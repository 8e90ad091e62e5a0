{#- A MERGE that makes table `target` hold exactly the rows of `source` (a model's full
    result), writing only the differences: a row of `source` with no equal row in `target`
    (every column in `columns` equal, nulls equal to nulls) is inserted, and a row of `target`
    with no equal row in `source` is deleted; equal rows are not touched. Exact when neither
    side holds the same row twice (spark__get_merge_sql checks that first with
    repeated_rows_sql). Standard SQL, which Delta 2.4 or later and Iceberg 1.4 or later (on
    Spark 3.4 or later) and DuckDB 1.4 or later run. -#}
{% macro full_result_merge_sql(target, source, columns) -%}
    {%- set quoted = [] -%}
    {%- for column in columns -%}
        {%- do quoted.append(adapter.quote(column)) -%}
    {%- endfor -%}
merge into {{ target }} as dbt_internal_dest
using {{ source }} as dbt_internal_source
on {% for column in quoted -%}
    dbt_internal_dest.{{ column }} is not distinct from dbt_internal_source.{{ column }}
    {%- if not loop.last %}
    and {% endif -%}
{%- endfor %}
when not matched then insert ({{ quoted | join(', ') }})
    values ({% for column in quoted %}dbt_internal_source.{{ column }}{{ ', ' if not loop.last }}{% endfor %})
when not matched by source then delete
{%- endmacro %}


{#- A query of one number: how many rows of the `relations` repeat a row before them in the
    same relation (0 when every row of each is distinct; nulls equal to nulls). -#}
{% macro repeated_rows_sql(relations) -%}
select
    {%- for relation in relations %}
    (select count(*) from {{ relation }}) - (select count(*) from (select distinct * from {{ relation }}) as distinct_rows_{{ loop.index }})
    {%- if not loop.last %} +{% endif -%}
    {%- endfor %} as repeated_rows
{%- endmacro %}


{#- dbt-spark's merge strategy, for this project (full_results_merged: Delta or Iceberg
    tables): the model's full result `source` replaces the rows of `target` through
    full_result_merge_sql, so only the rows that differ are written. unique_key and the
    merge_* configs play no part, since the result is complete. When either side holds a row
    twice, where equal rows cannot be told apart, the table is overwritten with the result
    instead (insert overwrite), which is as exact. -#}
{% macro spark__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set columns = adapter.get_columns_in_relation(target) | map(attribute='name') | list -%}
    {%- set repeated = run_query(repeated_rows_sql([source, target])).columns[0].values()[0] -%}
    {%- if repeated == 0 -%}
{{ full_result_merge_sql(target, source, columns) }}
    {%- else -%}
        {{ log(model.name ~ ': ' ~ repeated ~ ' rows occur more than once; the table is overwritten '
            ~ 'with the full result rather than merged.', info=true) }}
insert overwrite {{ target }}
select {% for column in columns %}{{ adapter.quote(column) }}{{ ', ' if not loop.last }}{% endfor %}
from {{ source }}
    {%- endif -%}
{%- endmacro %}
