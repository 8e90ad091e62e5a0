{#- dbt-spark's column clause of a view (persist_docs columns), without the comment when the
    description is longer than the Hive metastore's COMMENT column (256 characters): Spark then
    spends about 20 s on the failed write before it stores the view another way. The
    description stays in dbt's docs; tables on parquet carry no column comments at all. -#}
{% macro get_column_comment_sql(column_name, column_dict) -%}
    {%- set description = (column_dict.get(column_name) or {}).get('description') or '' -%}
    {{ adapter.quote(column_name) }}
    {%- if description and description | length <= 256 %} comment '{{ description | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}
