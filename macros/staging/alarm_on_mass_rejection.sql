{#-
    Post-hook of the staging models (a no-op but for the base_* models): a wrong export
    setting fails loudly. When at least var rejection_alarm_share of a raw table's rows (and at
    least rejection_alarm_min_rows rows) are quarantined for the same column and reason, the
    model fails with one sentence naming the file, the column, a few offending values (never
    from a personal-data column: meta.personal in the raw contract) and the setting that
    probably fixes it. Everything downstream is skipped, so nothing is published.
-#}
{% macro alarm_on_mass_rejection() -%}
    {%- if not execute or not this.identifier.startswith('base_') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set share = setting('rejection_alarm_share') -%}
    {%- set min_rows = setting('rejection_alarm_min_rows') -%}
    {%- set worst = run_query(
        "with judged as (select rejection_reason, rejection_column, source_row_count from "
        ~ this ~ ") select rejection_reason, rejection_column, sum(source_row_count) as rejected,"
        ~ " (select sum(source_row_count) from judged) as total"
        ~ " from judged where rejection_reason is not null"
        ~ " group by rejection_reason, rejection_column order by rejected desc,"
        ~ " rejection_reason, rejection_column limit 1"
    ) -%}
    {%- if worst.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set reason, column, rejected, total = worst.rows[0] -%}
    {%- if rejected < min_rows or rejected < share * total -%}
        {{ return('') }}
    {%- endif -%}

    {%- set table_name = this.identifier.split('__')[-1] -%}
    {%- set contract_columns = [] -%}
    {%- for node in graph.sources.values() if node.name == table_name -%}
        {%- for name, spec in node.columns.items() if spec.meta.get('personal', false) -%}
            {%- do contract_columns.append(name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set personal = column in contract_columns -%}
    {#- a few offending values: they tell which setting fixes it; shown unless personal -#}
    {%- set samples = [] -%}
    {%- if modules.re.match('^[a-z_]+$', column) -%}
        {%- set found = run_query(
            "select value from (select distinct " ~ raw_values_field('raw_values', column)
            ~ " as value from " ~ this ~ " where rejection_reason = " ~ sql_string(reason)
            ~ " and rejection_column = " ~ sql_string(column) ~ ") where value is not null"
            ~ " order by value limit 3"
        ) -%}
        {%- for row in found.rows -%}
            {%- do samples.append("'" ~ (row[0] | string)[:40] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set files = run_query(
        "select distinct _source_file from " ~ this ~ " where _source_file is not null"
        ~ " order by 1 limit 2").columns[0].values() | list -%}

    {%- set text = samples | join(' ') -%}
    {%- if modules.re.search("'[+-]?[0-9.]*[0-9],[0-9]{1,2}'", text) -%}
        {%- set hint = "Values look like decimal commas: set var raw_format: {decimal_separator: ','}"
            ~ " (and thousands_separator: '.' if they have thousands dots)." -%}
    {%- elif modules.re.search("'[0-9]{1,2}\.[0-9]{1,2}\.[0-9]{2,4}", text) -%}
        {%- set hint = "Values look like German dates: set var raw_format: {timestamp_format: "
            ~ "'%d.%m.%Y %H:%M', date_format: '%d.%m.%Y', timezone: Europe/Berlin}." -%}
    {%- elif modules.re.search("'[0-9]{1,2}/[0-9]{1,2}/[0-9]{2,4}", text) -%}
        {%- set hint = "Values look like dates with slashes: set var raw_format: {timestamp_format:"
            ~ " '%d/%m/%Y %H:%M'} or '%m/%d/%Y %H:%M', whichever the export writes." -%}
    {%- elif reason in ['missing_value', 'missing_key'] -%}
        {%- set hint = "The column is empty in most rows: check the delimiter (var raw_format: "
            ~ "{delimiter: ...}) and the header mapping (var raw_column_mapping)." -%}
    {%- elif reason == 'unknown_customer' -%}
        {%- set hint = "Most rows name customers missing from the customers file: check that the "
            ~ "customers and this file come from the same export." -%}
    {%- else -%}
        {%- set hint = "Check the export dialect (var raw_format, raw_column_mapping; "
            ~ "docs/bring-your-own-data.md)." -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ (files | join(', ') or table_name) ~ ": " ~ rejected ~ " of " ~ total
        ~ " rows (" ~ ((100.0 * rejected / total) | round(1)) ~ " %) were quarantined as "
        ~ reason ~ " in column " ~ column
        ~ (" (values not shown: personal data)" if personal
            else (", e.g. " ~ samples | join(', ') if samples else ""))
        ~ ". " ~ hint ~ " Nothing was published; this alarm fires at var rejection_alarm_share ("
        ~ share ~ ") of a table's rows.") }}
{%- endmacro %}
