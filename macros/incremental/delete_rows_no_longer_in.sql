{#- Post-hook of an incremental model: delete the rows whose `key` is no longer in `relation`
    (e.g. an accepted event that a late conflicting copy sent to the quarantine). delete+insert
    only replaces keys present in the new batch, so without this such rows would linger. -#}
{% macro delete_rows_no_longer_in(key, relation) -%}
    {%- if is_incremental() -%}
    delete from {{ this }}
    where {{ key }} not in (select {{ key }} from {{ relation }} where {{ key }} is not null)
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}
