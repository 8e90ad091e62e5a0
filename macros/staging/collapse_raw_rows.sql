{#-
    One row per distinct raw row of a relation, before any parsing, with
    - source_row_count: how many identical copies the raw data held;
    - has_conflicting_duplicate: another distinct raw row has the same cleaned key.
    Grouping on every column keeps the result deterministic without any ordering.

    Only the rows whose cleaned key repeats (or is missing) are grouped; every other row is
    its own distinct row. Grouping and windowing every row of a wide table cost more than half
    of a base model's time at 1,000,000 customers (README "Performance").
-#}
{% macro collapse_raw_rows(relation, key_column, columns) -%}
    {%- set key = clean_text(key_column) -%}
    with

    repeated_keys as (
        select {{ key }} as repeated_key
        from {{ relation }}
        where {{ key }} is not null
        group by {{ key }}
        having count(*) > 1
    ),

    unique_key_rows as (
        select
        {%- for column in columns %}
            {{ column }},
        {%- endfor %}
            _source_file,
            1 as source_row_count,
            false as has_conflicting_duplicate
        from {{ relation }}
        where
            {{ key }} is not null
            and {{ key }} not in (select repeated_key from repeated_keys)
    ),

    repeated_key_rows as (
        select
        {%- for column in columns %}
            {{ column }},
        {%- endfor %}
            _source_file,
            count(*) as source_row_count
        from {{ relation }}
        where
            {{ key }} is null
            or {{ key }} in (select repeated_key from repeated_keys)
        group by
        {%- for column in columns %}
            {{ column }},
        {%- endfor %}
            _source_file
    )

    select * from unique_key_rows
    union all
    select
        *,
        count(*) over (partition by {{ key }}) > 1 as has_conflicting_duplicate
    from repeated_key_rows
{%- endmacro %}
