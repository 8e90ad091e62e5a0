{#- Text to boolean: true/t/1/yes/y and false/f/0/no/n (any case, blanks around trimmed);
    anything else is null, so staging quarantines the row as unparseable_value: a tab or NUL
    byte around or inside, a Unicode look-alike ('ｔｒｕｅ', Cyrillic 'уes'), 'on'/'off'. -#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}
