{#- Spark: replace every row of the parquet table `relation` with the rows of `select_sql`
    (which may read `relation` itself): Spark's stand-in for DELETE and UPDATE, which parquet
    tables do not take. The rows are first written to a scratch table beside it, since Spark
    cannot overwrite a table it is reading. -#}
{% macro spark_rewrite_table(relation, select_sql) -%}
    {%- set scratch = relation ~ '__rewrite' -%}
    {%- do run_query('drop table if exists ' ~ scratch) -%}
    {%- do run_query('create table ' ~ scratch ~ ' using parquet as ' ~ select_sql) -%}
    {%- do run_query('insert overwrite table ' ~ relation ~ ' select * from ' ~ scratch) -%}
    {%- do run_query('drop table ' ~ scratch) -%}
{%- endmacro %}
