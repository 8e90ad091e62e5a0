{#-
    The mechanical row checks of one raw column (a column of raw_contract), as
    [condition, reason_code, column] on the `parsed` columns (raw_parsed_columns), in two
    blocks:
    - value: a primary key empty -> missing_key; any other value empty unless nullable ->
      missing_value; a key longer than 255 characters or with a control character ->
      invalid_value (is_valid_key); text that does not parse as its type (timestamp, date,
      boolean, amount, integer, count) -> unparseable_value; an enum outside its values ->
      invalid_enum; a timestamp before earliest_valid_timestamp() -> out_of_range;
    - range: an amount below its min -> negative_amount (out_of_range for a min other than 0);
      a count below its min (default 0) or above max_count_value(), an integer outside its
      range -> out_of_range.
    Either block may be empty. raw_row_checks puts the blocks in a base model's order.
-#}
{% macro raw_column_checks(column) -%}
    {%- set name = column.name -%}
    {%- set value = column.staged_as -%}
    {%- set text = name ~ '_text' -%}
    {%- set value_checks = [] -%}
    {%- set range_checks = [] -%}
    {%- if column.type in raw_parsed_types() -%}
        {%- if column.nullable -%}
            {%- do value_checks.append([text ~ ' is not null and ' ~ value ~ ' is null', 'unparseable_value', name]) -%}
        {%- else -%}
            {%- do value_checks.append([text ~ ' is null', 'missing_value', name]) -%}
            {%- do value_checks.append([value ~ ' is null', 'unparseable_value', name]) -%}
        {%- endif -%}
    {%- elif column.primary -%}
        {%- do value_checks.append([value ~ ' is null', 'missing_key', name]) -%}
    {%- elif not column.nullable -%}
        {%- do value_checks.append([value ~ ' is null', 'missing_value', name]) -%}
    {%- endif -%}
    {%- if column.type == 'key' -%}
        {%- do value_checks.append(['not ' ~ is_valid_key(value), 'invalid_value', name]) -%}
    {%- elif column.type == 'enum' -%}
        {%- set quoted = [] -%}
        {%- for allowed in column.allowed_values -%}
            {%- do quoted.append(sql_string(allowed)) -%}
        {%- endfor -%}
        {%- do value_checks.append([value ~ ' not in (' ~ quoted | join(', ') ~ ')', 'invalid_enum', name]) -%}
    {%- elif column.type == 'timestamp' -%}
        {%- do value_checks.append([value ~ ' < ' ~ earliest_valid_timestamp(), 'out_of_range', name]) -%}
    {%- elif column.type == 'amount' and column.min is not none -%}
        {%- do range_checks.append([
            value ~ ' < ' ~ column.min, 'negative_amount' if column.min == 0 else 'out_of_range', name]) -%}
    {%- elif column.type == 'count' -%}
        {%- do range_checks.append([
            value ~ ' < ' ~ column.min ~ ' or ' ~ value ~ ' > ' ~ max_count_value(), 'out_of_range', name]) -%}
    {%- elif column.type == 'integer' and column.range is not none -%}
        {%- do range_checks.append([
            value ~ ' < ' ~ column.range[0] ~ ' or ' ~ value ~ ' > ' ~ column.range[1], 'out_of_range', name]) -%}
    {%- endif -%}
    {{ return({'value': value_checks, 'range': range_checks}) }}
{%- endmacro %}
