{#- Spark's counterpart of DuckDB's regexp_full_match(column, pattern): true when the whole
    text matches the (Java) regular expression, null for null text. rlike finds a match
    anywhere, so the pattern is anchored; at the end with \z, not $: Java's $ also matches
    before a final line break, so '12\n' would pass as an integer. Used by the spark__ parsers
    of macros/staging; the patterns are the DuckDB ones, whose character classes ([0-9], [.])
    read the same in RE2 and Java. -#}
{% macro spark_regexp_full_match(column, pattern) -%}
    ({{ column }} rlike {{ sql_string('^(?:' ~ pattern ~ ')\\z') }})
{%- endmacro %}
