{#- One column's raw text from a quarantined row's raw_values (raw_values_json), as text: null
    when the column was empty. `column` is a contract column name ([a-z_]+). Used by
    alarm_on_mass_rejection to show a few offending values. -#}
{% macro raw_values_field(raw_values_sql, column) -%}
    {{ return(adapter.dispatch('raw_values_field', 'customer_analytics')(raw_values_sql, column)) }}
{%- endmacro %}

{% macro default__raw_values_field(raw_values_sql, column) -%}
    {{ exceptions.raise_compiler_error(
        "raw_values_field has no implementation for adapter '" ~ adapter.type()
        ~ "': add " ~ adapter.type() ~ "__raw_values_field to macros/staging/raw_values_field.sql.") }}
{%- endmacro %}

{% macro duckdb__raw_values_field(raw_values_sql, column) -%}
    json_extract_string({{ raw_values_sql }}, '$.{{ column }}')
{%- endmacro %}

{% macro spark__raw_values_field(raw_values_sql, column) -%}
    get_json_object({{ raw_values_sql }}, '$.{{ column }}')
{%- endmacro %}
