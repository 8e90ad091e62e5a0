{#- Post-hook of an incremental model: delete the rows whose `key` is no longer in `relation`
    (e.g. an accepted event that a late conflicting copy sent to the quarantine). delete+insert
    only replaces keys present in the new batch, so without this such rows would linger.

    `one_row_per_key`: the model holds one row for each key `relation` holds, once its run
    has written what it read (one row per accepted session, order, event or customer; it reads
    every key written since its last run, docs/incremental.md, and the equality tests check
    that it equals a full build), and `relation` holds each key once. Then the model holds a
    key no longer there exactly when it holds more rows than `relation` holds keys, so the two
    counts are compared first and the keys only when they differ: comparing every key reads
    both whole (1.4 to 1.7 s a model in a daily run at L). -#}
{% macro delete_rows_no_longer_in(key, relation, one_row_per_key=false) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- if one_row_per_key -%}
        {%- set counts = run_query('select (select count(*) from ' ~ this ~ '), (select count(*) from '
            ~ relation ~ ' as current_keys where ' ~ key ~ ' is not null)').rows[0] -%}
        {%- if counts[0] == counts[1] -%}
            {{ return('select 1') }}
        {%- endif -%}
    {%- endif -%}
    delete from {{ this }}
    where {{ key }} not in (select {{ key }} from {{ relation }} where {{ key }} is not null)
{%- endmacro %}
