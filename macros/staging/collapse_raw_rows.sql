{#-
    One row per distinct raw row of a relation, with
    - source_row_count: how many copies of it the raw data held, in any of its files (a day
      partition may repeat a row of the whole-table file or of another day's export);
    - _source_file: the first file (by name) that holds it;
    - has_conflicting_duplicate: another distinct raw row has the same cleaned key.
    Copies are rows whose every column has the same value once parsed (raw_parsed_value): the
    same instant, date, amount, number or cleaned text, however written. The same day as a CSV
    export and as a typed Parquet file ('2025-12-30T06:53:32+01:00' and '2025-12-30
    05:53:32.000000Z', '0.00' and '0.0') is copies, not a conflict. A value that does not parse is
    compared as its cleaned text. A distinct row is its copy in the first file by name (the
    least text, where a file holds more than one), a row as it was delivered.

    Only the rows whose cleaned key repeats (or is missing) are grouped; every other row is
    its own distinct row. Grouping and windowing every row of a wide table cost more than half
    of a base model's time at 1,000,000 customers (docs/performance.md). Joins, not
    `in (subquery)`: DuckDB planned those as mark joins after casting every column of every row
    (the sessions base model took 38.6 s that way at 1,000,000 customers, 21.6 s with joins).
-#}
{% macro collapse_raw_rows(relation, key_column, contract, fmt) -%}
    {%- set columns = contract.names -%}
    {%- set key = clean_text('raw_rows.' ~ key_column) -%}
    {%- set qualified_columns = [] -%}
    {%- set copy_values = [] -%}
    {%- set copy_order = [] -%}
    {%- for column in columns -%}
        {%- do qualified_columns.append('raw_rows.' ~ column) -%}
        {%- do copy_values.append('_value_' ~ loop.index) -%}
        {%- do copy_values.append('case when _value_' ~ loop.index ~ ' is null then '
            ~ clean_text(column) ~ ' end') -%}
        {%- do copy_order.append(column ~ ' nulls first') -%}
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

    repeated_key_values as (
        select
            {%- for column in columns %}
            raw_rows.{{ column }},
            {{ raw_parsed_value(contract, column, fmt) }} as _value_{{ loop.index }},
            {%- endfor %}
            raw_rows._source_file
        from {{ relation }} as raw_rows
        inner join repeated_keys on {{ key }} is not distinct from repeated_keys.repeated_key
    ),

    {#- copies: the same parsed value in every column, or the same cleaned text where a value
        does not parse; the copy kept is the one in the first file by name (then the least
        text) -#}
    repeated_key_copies as (
        select
            *,
            count(*) over (partition by {{ copy_values | join(', ') }}) as source_row_count,
            row_number() over (
                partition by {{ copy_values | join(', ') }}
                order by _source_file, {{ copy_order | join(', ') }}
            ) as copy_number
        from repeated_key_values
    ),

    repeated_key_rows as (
        select
            {{ columns | join(', ') }},
            _source_file,
            source_row_count
        from repeated_key_copies
        where copy_number = 1
    )

    select * from unique_key_rows
    union all
    select
        *,
        count(*) over (partition by {{ clean_text(key_column) }}) > 1 as has_conflicting_duplicate
    from repeated_key_rows
{%- endmacro %}
