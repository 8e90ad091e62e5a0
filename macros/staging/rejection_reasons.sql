{#- The quarantine's reason codes, in one place (docs/quarantine.md explains each). Used by
    rpt_data_quality (one column per reason) and the is_rejection_reason test. -#}
{% macro rejection_reasons() -%}
    {{ return([
        'missing_key', 'missing_value', 'unparseable_value', 'invalid_enum', 'invalid_value',
        'out_of_range', 'negative_amount', 'future_timestamp', 'duplicate_conflicting',
        'unknown_customer', 'unknown_order',
    ]) }}
{%- endmacro %}
