{#- Incremental validation of a raw event table: the raw rows a base model judges again.
    Every raw row whose key also occurs on a row dated inside the window (or on a row whose
    timestamp cannot be read), so duplicate and conflict checks still see all copies of a key;
    every row without a key; and every row of a key this model rejected for a reference that
    may have arrived since (unknown_customer, unknown_order); and every key on a row added to or
    removed from a day partition of raw table `table_name` since this model was last built
    (raw_keys_changed), however old, or referring to one of another table (`references`: the
    parsed reference column -> the raw table it refers to; a session's order). Expects a CTE `raw_cte` of raw
    text columns; `key_sql` and `timestamp_sql` are expressions over it (the cleaned key, the
    parsed timestamp); `key_column` is the key's column in this model. The timestamp is parsed
    once per row (coalesce rather than `>= cutoff or is null`): parsing is most of the cost. -#}
{% macro raw_rows_to_rejudge(raw_cte, key_sql, timestamp_sql, key_column, cutoff, table_name, references={}) -%}
    select {{ raw_cte }}.*
    from {{ raw_cte }}
    where
        {{ key_sql }} is null
        or {{ key_sql }} in (
            select {{ key_sql }}
            from {{ raw_cte }}
            where coalesce({{ timestamp_sql }} >= {{ cutoff }}, true)
            union
            select {{ key_column }}
            from {{ this }}
            where rejection_reason in ('unknown_customer', 'unknown_order')
            union
            select * from {{ raw_keys_changed(table_name) }}
        {%- for reference_sql, referenced_table in references.items() %}
            union
            select {{ key_sql }}
            from {{ raw_cte }}
            where {{ reference_sql }} in {{ raw_keys_changed(referenced_table) }}
        {%- endfor %}
        )
{%- endmacro %}


{#- Pre-hook of the base models of the event tables: on an incremental run, delete the rows of
    keys that a day partition no longer holds and no other raw row holds either (a partition
    landed again without them); delete+insert replaces only the keys it judges again. -#}
{% macro delete_keys_gone_from_raw(table_name, key_column, raw_model) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set key_sql = raw_primary_key_sql(table_name) -%}
    delete from {{ this }}
    where
        {{ key_column }} in {{ raw_keys_changed(table_name) }}
        and {{ key_column }} not in (
            select {{ key_sql }} from {{ ref(raw_model) }} where {{ key_sql }} is not null
        )
{%- endmacro %}
