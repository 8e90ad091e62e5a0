{#-
    The contract of one raw table, from the parsed project (the source's columns in
    models/staging/<source>/_<source>__sources.yml, in YAML order): the one declaration that
    the raw reader, the base models' parsing and row checks (raw_parsed_columns,
    raw_row_checks), the dbt tests' enums, the GX raw suites and the generator follow
    (tests/test_raw_contract.py). Each column:
    - name; required (meta.required, default true: the file must have the column);
      personal (meta.personal: values never shown in messages);
    - erase (meta.erase, for columns naming a customer): `row` leaves out every row naming an
      erased customer (the erasure requests), `value` blanks the value, `linked` leaves out the
      rows without a customer that share this column's value with a left-out row (a cookie);
    - type (meta.type): key, text, enum, timestamp, date, boolean, amount, integer or count;
    - nullable (meta.nullable; always true for an optional column, else default false);
    - primary (meta.primary: the table's key), case (meta.case: lower or upper; enums lower),
      allowed_values (meta.values of an enum), min (amount, count), range ([low, high] of an
      integer), staged_as (meta.staged_as, default the name).
    docs/raw-contract.md ("Declaring a column") explains each. A declaration outside this
    vocabulary fails the build, naming the file and column. Outside execution (dbt parse) the
    graph is not complete: an empty contract.
-#}
{% macro raw_contract(source_name, table_name) -%}
    {%- if not execute -%}
        {{ return({'columns': [], 'names': [], 'required': true, 'yaml': ''}) }}
    {%- endif -%}
    {%- set matches = graph.sources.values()
        | selectattr('source_name', 'equalto', source_name)
        | selectattr('name', 'equalto', table_name)
        | list -%}
    {%- if matches | length != 1 -%}
        {{ exceptions.raise_compiler_error(
            "No source '" ~ source_name ~ "." ~ table_name ~ "' is declared in models/staging/.") }}
    {%- endif -%}
    {%- set node = matches[0] -%}
    {%- set types = ['key', 'text', 'enum', 'timestamp', 'date', 'boolean', 'amount', 'integer', 'count'] -%}
    {%- set columns = [] -%}
    {%- for name, column in node.columns.items() -%}
        {%- set meta = column.meta -%}
        {%- set where = "Column '" ~ table_name ~ "." ~ name ~ "' in " ~ node.original_file_path -%}
        {%- set type_name = meta.get('type') -%}
        {%- if type_name not in types -%}
            {{ exceptions.raise_compiler_error(
                where ~ " declares meta.type '" ~ type_name ~ "'; declare one of "
                ~ types | join(', ') ~ " (docs/raw-contract.md, \"Declaring a column\").") }}
        {%- endif -%}
        {%- set allowed_values = meta.get('values') or [] -%}
        {%- if (type_name == 'enum') != (allowed_values | length > 0) -%}
            {{ exceptions.raise_compiler_error(
                where ~ ": an enum, and only an enum, lists its values (meta.values).") }}
        {%- endif -%}
        {%- set value_range = meta.get('range') -%}
        {%- if value_range is not none and (type_name != 'integer' or value_range | length != 2) -%}
            {{ exceptions.raise_compiler_error(
                where ~ ": meta.range is [low, high] of an integer column.") }}
        {%- endif -%}
        {%- if meta.get('min') is not none and type_name not in ['amount', 'count'] -%}
            {{ exceptions.raise_compiler_error(
                where ~ ": meta.min bounds an amount or a count; an integer has meta.range.") }}
        {%- endif -%}
        {%- if meta.get('case') not in [none, 'lower', 'upper'] -%}
            {{ exceptions.raise_compiler_error(where ~ ": meta.case is lower or upper.") }}
        {%- endif -%}
        {%- if meta.get('erase') not in [none, 'row', 'value', 'linked'] -%}
            {{ exceptions.raise_compiler_error(where ~ ": meta.erase is row, value or linked.") }}
        {%- endif -%}
        {%- set required = meta.get('required', true) -%}
        {%- do columns.append({
            'name': name,
            'required': required,
            'personal': meta.get('personal', false),
            'erase': meta.get('erase'),
            'type': type_name,
            'nullable': meta.get('nullable', false) or not required,
            'primary': meta.get('primary', false),
            'case': meta.get('case', 'lower' if type_name == 'enum' else none),
            'allowed_values': allowed_values,
            'min': meta.get('min', 0 if type_name == 'count' else none),
            'range': value_range,
            'staged_as': meta.get('staged_as', name),
        }) -%}
    {%- endfor -%}
    {{ return({
        'columns': columns,
        'names': columns | map(attribute='name') | list,
        'required': node.meta.get('required', true),
        'yaml': node.original_file_path,
    }) }}
{%- endmacro %}
