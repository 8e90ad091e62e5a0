{#-
    Post-hook of the staging models (a no-op but for the base_* models): a wrong export
    setting, or one file exported differently from the others, fails loudly. When at least var
    rejection_alarm_share of a raw table's rows, or of one of its files' rows (a day partition
    in another dialect than the rest), and at least rejection_alarm_min_rows rows, are
    quarantined for the same column and reason, the model fails with one sentence naming the
    file, the column, a few offending values (never from a personal-data column: meta.personal
    in the raw contract) and the setting that probably fixes it. Everything downstream is
    skipped, so nothing is published.
-#}
{% macro alarm_on_mass_rejection() -%}
    {%- if not execute or not this.identifier.startswith('base_') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set share = setting('rejection_alarm_share') -%}
    {%- set min_rows = setting('rejection_alarm_min_rows') -%}
    {#- per reason and column: the table's rejected rows, then each file's, for the checks of a
        row's own values (not the checks across rows: a conflicting copy, a future timestamp,
        an unknown customer or order depend on other files and tables, e.g. a day's sessions
        landed before that day's orders are future until the orders arrive); the largest share
        first (a table before its files when both fire) -#}
    {%- set groups = run_query(
        "with judged as (select _source_file, rejection_reason, rejection_column, source_row_count"
        ~ " from " ~ this ~ "),"
        ~ " per_file as (select _source_file, rejection_reason, rejection_column,"
        ~ " sum(source_row_count) as rejected from judged where rejection_reason is not null"
        ~ " group by _source_file, rejection_reason, rejection_column),"
        ~ " file_totals as (select _source_file, sum(source_row_count) as total from judged"
        ~ " group by _source_file),"
        ~ " candidates as ("
        ~ " select cast(null as " ~ dbt.type_string() ~ ") as source_file, rejection_reason,"
        ~ " rejection_column,"
        ~ " sum(rejected) as rejected, (select sum(source_row_count) from judged) as total"
        ~ " from per_file group by rejection_reason, rejection_column"
        ~ " union all"
        ~ " select per_file._source_file, rejection_reason, rejection_column, rejected, total"
        ~ " from per_file inner join file_totals"
        ~ " on per_file._source_file is not distinct from file_totals._source_file"
        ~ " where rejection_reason not in ('" ~ rejection_reasons_across_rows() | join("', '") ~ "'))"
        ~ " select source_file, rejection_reason, rejection_column, rejected, total from candidates"
        ~ " where rejected >= " ~ min_rows ~ " and rejected >= " ~ share ~ " * total"
        ~ " order by rejected / total desc, source_file nulls first, rejection_reason,"
        ~ " rejection_column limit 1"
    ) -%}
    {%- if groups.rows | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set source_file, reason, column, rejected, total = groups.rows[0] -%}
    {%- set in_file = " and _source_file = " ~ sql_string(source_file) if source_file else "" -%}

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
            ~ " and rejection_column = " ~ sql_string(column) ~ in_file ~ ") where value is not null"
            ~ " order by value limit 3"
        ) -%}
        {%- for row in found.rows -%}
            {%- do samples.append("'" ~ (row[0] | string)[:40] ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
    {#- the file, or the two files holding most of the rows quarantined for it -#}
    {%- set files = [source_file] if source_file else run_query(
        "select _source_file from " ~ this ~ " where _source_file is not null"
        ~ " and rejection_reason = " ~ sql_string(reason) ~ " and rejection_column = "
        ~ sql_string(column) ~ " group by _source_file"
        ~ " order by sum(source_row_count) desc, _source_file limit 2").columns[0].values() | list -%}

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
    {%- if source_file -%}
        {#- one file of the table: the others read fine with the table's settings -#}
        {%- set hint = "The table's other files read with its settings: export this file as"
            ~ " they are (the settings apply to every file of the table). " ~ hint -%}
    {%- endif -%}
    {{ exceptions.raise_compiler_error(
        "Raw file " ~ (files | join(', ') or table_name) ~ ": " ~ rejected ~ " of " ~ total
        ~ " rows (" ~ ((100.0 * rejected / total) | round(1)) ~ " %) were quarantined as "
        ~ reason ~ " in column " ~ column
        ~ (" (values not shown: personal data)" if personal
            else (", e.g. " ~ samples | join(', ') if samples else ""))
        ~ ". " ~ hint ~ " Nothing was published; this alarm fires at var rejection_alarm_share ("
        ~ share ~ ") of a table's or a file's rows.") }}
{%- endmacro %}
