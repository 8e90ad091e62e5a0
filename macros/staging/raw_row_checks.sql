{#-
    A base model's row checks for first_failed_check, in its priority order: `steps` lists
    them, each either
    - '<column>': that raw column's value checks (raw_column_checks: missing, invalid key,
      unparseable, invalid enum, too early), generated from its declaration in the raw
      contract;
    - '<column>:range': that column's declared range check (amount min, count or integer
      range);
    - [condition, reason_code, column]: one of the model's own rules, as is.
    The order decides the reason of a row with several defects. Every block of checks the
    contract declares must be listed exactly once: a missing, unknown or repeated one is a
    compiler error naming the model, so a new raw column cannot go unchecked.
-#}
{% macro raw_row_checks(contract, steps) -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set blocks = {} -%}
    {%- for column in contract.columns -%}
        {%- set checks = raw_column_checks(column) -%}
        {%- if checks.value -%}
            {%- do blocks.update({column.name: checks.value}) -%}
        {%- endif -%}
        {%- if checks.range -%}
            {%- do blocks.update({column.name ~ ':range': checks.range}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set where = model.original_file_path ~ " (raw_row_checks)" -%}
    {%- set result = [] -%}
    {%- set listed = [] -%}
    {%- for step in steps -%}
        {%- if step is string -%}
            {%- if step not in blocks -%}
                {{ exceptions.raise_compiler_error(
                    where ~ " lists '" ~ step ~ "', but " ~ contract.yaml ~ " declares no such checks;"
                    ~ " it declares " ~ blocks.keys() | list | join(', ') ~ ".") }}
            {%- endif -%}
            {%- if step in listed -%}
                {{ exceptions.raise_compiler_error(where ~ " lists '" ~ step ~ "' twice.") }}
            {%- endif -%}
            {%- do listed.append(step) -%}
            {%- for check in blocks[step] -%}
                {%- do result.append(check) -%}
            {%- endfor -%}
        {%- else -%}
            {%- do result.append(step) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set unlisted = [] -%}
    {%- for name in blocks if name not in listed -%}
        {%- do unlisted.append(name) -%}
    {%- endfor -%}
    {%- if unlisted -%}
        {{ exceptions.raise_compiler_error(
            where ~ " does not list the checks that " ~ contract.yaml ~ " declares for "
            ~ unlisted | join(', ') ~ ": add them where they belong in its order.") }}
    {%- endif -%}
    {{ return(result) }}
{%- endmacro %}
