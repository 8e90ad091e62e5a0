{#- Incremental validation of a raw event table: the raw rows a base model judges again.
    Every raw row whose key also occurs on a row dated inside the window (or on a row whose
    timestamp cannot be read), so duplicate and conflict checks still see all copies of a key;
    every row without a key; and every row of a key this model rejected for a reference that
    may have arrived since (unknown_customer, unknown_order). Expects a CTE `raw_cte` of raw
    text columns; `key_sql` and `timestamp_sql` are expressions over it (the cleaned key, the
    parsed timestamp); `key_column` is the key's column in this model. The timestamp is parsed
    once per row (coalesce rather than `>= cutoff or is null`): parsing is most of the cost. -#}
{% macro raw_rows_to_rejudge(raw_cte, key_sql, timestamp_sql, key_column, cutoff) -%}
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
        )
{%- endmacro %}
