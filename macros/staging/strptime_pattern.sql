{#- The regular expression a text must match in full to be read with a strptime format of
    raw_format (timestamp_format, date_format: %d %m %Y %H %M %S and separators). %d, %m and %H
    take one or two digits (Excel writes 1.3.2024 9:05 as well as 01.03.2024 09:05), %M and %S
    two, %Y four; every other character stands for itself. strptime alone would also take a
    two-digit year (as year 24) or a five-digit one. Pure Jinja: returns the pattern text. -#}
{% macro strptime_pattern(format) -%}
    {%- set fields = {
        '%d': '[0-9]{1,2}', '%m': '[0-9]{1,2}', '%Y': '[0-9]{4}',
        '%H': '[0-9]{1,2}', '%M': '[0-9]{2}', '%S': '[0-9]{2}',
    } -%}
    {%- set parts = [] -%}
    {%- for token in modules.re.findall('%[dmYHMS]|.', format) -%}
        {%- do parts.append(fields[token] if token in fields else '[' ~ token ~ ']') -%}
    {%- endfor -%}
    {{ return(parts | join('')) }}
{%- endmacro %}
