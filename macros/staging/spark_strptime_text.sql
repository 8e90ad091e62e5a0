{#- Spark's reading of a strptime format of raw_format (timestamp_format, date_format) as
    DuckDB's strptime reads it: the SQL of ISO text, 'YYYY-MM-DD' (a format without %H) or
    'YYYY-MM-DD HH:MM:SS', for Spark's try_cast to check the calendar (31 April, 24:00 and
    second 60 give null there, as in DuckDB). DuckDB reads each field greedily, up to two
    digits (%Y: four), and never gives a digit back: '1112024' in '%d%m%Y' is 11 December 24,
    '1032024' nothing (month 32). Possessive groups ({1,2}+) read the same way; text they
    cannot read gives zeros, so null. Spark's own datetime patterns read one-letter fields
    differently, hence the regular expression. The text must already match
    strptime_pattern(format) in full. -#}
{% macro spark_strptime_text(column, format) -%}
    {%- set widths = {'%d': 2, '%m': 2, '%Y': 4, '%H': 2, '%M': 2, '%S': 2} -%}
    {%- set parts = [] -%}
    {%- set groups = {} -%}
    {%- for token in modules.re.findall('%[dmYHMS]|.', format) -%}
        {%- if token in widths -%}
            {%- do parts.append('([0-9]{1,' ~ widths[token] ~ '}+)') -%}
            {%- do groups.update({token: groups | length + 1}) -%}
        {%- else -%}
            {%- do parts.append('[' ~ token ~ ']') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set reading = sql_string('^' ~ parts | join('') ~ '\\z') -%}
    {%- set fields = {} -%}
    {%- for token, width in widths.items() -%}
        {%- if token in groups -%}
            {%- do fields.update({token: 'lpad(regexp_extract(' ~ column ~ ', ' ~ reading ~ ', '
                ~ groups[token] ~ "), " ~ width ~ ", '0')"}) -%}
        {%- else -%}
            {%- do fields.update({token: "'00'"}) -%}
        {%- endif -%}
    {%- endfor -%}
    concat({{ fields['%Y'] }}, '-', {{ fields['%m'] }}, '-', {{ fields['%d'] }}
    {%- if '%H' in groups -%}
        , ' ', {{ fields['%H'] }}, ':', {{ fields['%M'] }}, ':', {{ fields['%S'] }}
    {%- endif -%}
    )
{%- endmacro %}
