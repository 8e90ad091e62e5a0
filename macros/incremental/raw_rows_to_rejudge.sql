{#- Incremental validation of a raw event table: the raw rows a base model judges again.
    Every row without a key; every key on a row added to or removed from a day partition of raw
    table `table_name` since this model was last built (raw_keys_changed), however old, or
    referring to one of another table (`references`: the parsed reference column -> the raw
    table it refers to; a session's order); every key of a row of this model matching
    `recheck` (SQL over its columns: the rows whose judgement depends on another table or the
    reference date and may have changed, e.g. rejected as unknown_customer, or accepted with a
    customer no longer known); and, only when a whole-table file was landed since
    (raw_whole_files_changed: those record no keys), every raw row whose key also occurs on a
    row dated inside the window (or on a row whose timestamp cannot be read), so duplicate and
    conflict checks still see all copies of a key. `raw_relation` is the raw model (text
    columns); `key_sql` and `timestamp_sql` are expressions over it (the cleaned key, the parsed
    timestamp); `key_column` is the key's column in this model. The timestamp is parsed once
    per row (coalesce rather than `>= cutoff or is null`): parsing is most of the cost, which
    a run landing only day partitions does not pay.

    The rows are found by their key alone, and only then read whole (by DuckDB's rowid: this
    runs on incremental runs, which only DuckDB has, docs/spark.md): scanning every raw column
    of every row to keep a few thousand cost 1.2 s of 4.3 s for the sessions at L. A row
    without a key is matched as the key chr(0) (one semi-join instead of `is null or in`,
    which DuckDB runs as a mark join and a filter: 0.6 s more); a raw key that is chr(0)
    itself is then judged again too, which changes nothing. -#}
{% macro raw_rows_to_rejudge(raw_relation, key_sql, timestamp_sql, key_column, cutoff, table_name, recheck, references={}) -%}
    select raw_rows.*
    from {{ raw_relation }} as raw_rows
    where raw_rows.rowid in (
        select rowid
        from {{ raw_relation }}
        where coalesce({{ key_sql }}, chr(0)) in (
            select chr(0)
            union
            {%- if raw_whole_files_changed(table_name) %}
            select {{ key_sql }}
            from {{ raw_relation }}
            where coalesce({{ timestamp_sql }} >= {{ cutoff }}, true)
            union
            {%- endif %}
            select {{ key_column }}
            from {{ this }}
            where {{ recheck }}
            union
            select * from {{ raw_keys_changed(table_name) }}
        {%- for reference_sql, referenced_table in references.items()
                if raw_has_changed_keys(referenced_table) %}
            union
            select {{ key_sql }}
            from {{ raw_relation }}
            where {{ reference_sql }} in {{ raw_keys_changed(referenced_table) }}
        {%- endfor %}
        )
    )
{%- endmacro %}


{#- Pre-hook of the base models of the event tables: on an incremental run, delete the rows
    without a key, and the rows of keys that a day partition no longer holds and no other raw
    row holds either (a partition landed again without them); delete+insert replaces only the
    keys it judges again. Every raw row without a key is judged again on each run
    (raw_rows_to_rejudge), so the rows without a key are written again from the raw rows that
    still hold them; delete+insert alone would keep them all once none is left (a day file
    delivered again without its one row missing the key). -#}
{% macro delete_keys_gone_from_raw(table_name, key_column, raw_model) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    delete from {{ this }}
    where
        {{ key_column }} is null
    {%- if raw_has_changed_keys(table_name) %}
    {%- set key_sql = raw_primary_key_sql(table_name) %}
        {#- the changed keys no raw row holds: the raw rows are looked up by the changed keys
            (a few thousand), not all collected (at L, 2.3 s for the sessions' 16 M keys, 1.1 s
            this way) #}
        or {{ key_column }} in (
            select changed_keys.key_value from {{ raw_keys_changed(table_name) }} as changed_keys
            except
            select {{ key_sql }}
            from {{ ref(raw_model) }}
            where {{ key_sql }} in {{ raw_keys_changed(table_name) }}
        )
    {%- endif %}
{%- endmacro %}


{#- raw_rows_to_rejudge's `recheck` for a base model: its rows whose judgement depends on
    another table or on the reference date and may have changed since they were judged. Rows
    rejected for that (future_timestamp, unknown_customer, unknown_order: the reference may
    have arrived, the reference date moved on), and accepted rows dated at or beyond the
    future limit now (the reference date moved back) or referring to a row that the
    `references` (column -> relation holding it under the same name) no longer hold. -#}
{% macro judged_against_others(timestamp_column, reference_dates, references) -%}
    rejection_reason in ('{{ rejection_reasons_judged_against_others() | join("', '") }}')
    or (
        rejection_reason is null
        and (
            {{ timestamp_column }} >= (
                select {{ future_timestamp_limit('reference_date') }} from {{ reference_dates }}
            )
            {%- for column, relation in references.items() %}
            or (
                {{ column }} is not null
                and {{ column }} not in (select {{ column }} from {{ relation }} where {{ column }} is not null)
            )
            {%- endfor %}
        )
    )
{%- endmacro %}
