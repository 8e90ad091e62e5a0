{#-
    One row per distinct raw row of a relation, before any parsing, with
    - source_row_count: how many identical copies the raw data held, in any of its files (a
      day partition may repeat a row of the whole-table file or of another day's export);
    - _source_file: the first file (by name) that holds it;
    - has_conflicting_duplicate: another distinct raw row has the same cleaned key.
    Grouping on every column but the file keeps the result deterministic without any
    ordering.

    Only the rows whose cleaned key repeats (or is missing) are grouped; every other row is
    its own distinct row. Grouping and windowing every row of a wide table cost more than half
    of a base model's time at 1,000,000 customers (docs/performance.md). Joins, not
    `in (subquery)`: DuckDB planned those as mark joins after casting every column of every row
    (the sessions base model took 38.6 s that way at 1,000,000 customers, 21.6 s with joins).
-#}
{% macro collapse_raw_rows(relation, key_column, columns) -%}
    {%- set key = clean_text('raw_rows.' ~ key_column) -%}
    {%- set qualified_columns = [] -%}
    {%- for column in columns -%}
        {%- do qualified_columns.append('raw_rows.' ~ column) -%}
    {%- endfor -%}
    with

    repeated_keys as (
        select {{ key }} as repeated_key
        from {{ relation }} as raw_rows
        group by {{ key }}
        having count(*) > 1 or {{ key }} is null
    ),

    unique_key_rows as (
        select
            {{ qualified_columns | join(', ') }},
            raw_rows._source_file,
            1 as source_row_count,
            false as has_conflicting_duplicate
        from {{ relation }} as raw_rows
        left join repeated_keys on {{ key }} = repeated_keys.repeated_key
        where {{ key }} is not null and repeated_keys.repeated_key is null
    ),

    repeated_key_rows as (
        select
            {{ qualified_columns | join(', ') }},
            min(raw_rows._source_file) as _source_file,
            count(*) as source_row_count
        from {{ relation }} as raw_rows
        inner join repeated_keys on {{ key }} is not distinct from repeated_keys.repeated_key
        group by
            {{ qualified_columns | join(', ') }}
    )

    select * from unique_key_rows
    union all
    select
        *,
        count(*) over (partition by {{ clean_text(key_column) }}) > 1 as has_conflicting_duplicate
    from repeated_key_rows
{%- endmacro %}
