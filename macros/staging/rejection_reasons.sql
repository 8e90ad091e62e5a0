{#- The quarantine's reason codes, in one place (docs/quarantine.md explains each). Used by
    rpt_data_quality (one column per reason) and the is_rejection_reason test. -#}
{% macro rejection_reasons() -%}
    {{ return([
        'missing_key', 'missing_value', 'unparseable_value', 'invalid_enum', 'invalid_value',
        'out_of_range', 'negative_amount', 'future_timestamp', 'duplicate_conflicting',
        'unknown_customer', 'unknown_order',
    ]) }}
{%- endmacro %}


{#- The reasons a row is rejected for by a check against another table or the reference date:
    the reference may arrive, the reference date move, so such rows are judged again
    (judged_against_others, raw_rows_to_rejudge). -#}
{% macro rejection_reasons_judged_against_others() -%}
    {{ return(['future_timestamp', 'unknown_customer', 'unknown_order']) }}
{%- endmacro %}


{#- The reasons of the checks across rows, files or tables rather than of a row's own values:
    those judged against others and a conflicting copy. The per-file rejection alarm
    (alarm_on_mass_rejection) leaves them out. -#}
{% macro rejection_reasons_across_rows() -%}
    {{ return(['duplicate_conflicting'] + rejection_reasons_judged_against_others()) }}
{%- endmacro %}
