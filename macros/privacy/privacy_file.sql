{#- The privacy files, resolved as orchestration/lib/settings.py resolves them (key_file,
    erasure_file): the environment's CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE or
    CUSTOMER_ANALYTICS_ERASURE_FILE (an absolute path), else pseudonym.key or
    erasure-requests.csv in $XDG_CONFIG_HOME/customer-analytics (default ~/.config). Read by
    SQL on engines without the project's DuckDB plugin (Spark). `kind`: 'key' or 'erasure'. -#}
{% macro privacy_file(kind) -%}
    {%- set names = {
        'key': ['CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE', 'pseudonym.key'],
        'erasure': ['CUSTOMER_ANALYTICS_ERASURE_FILE', 'erasure-requests.csv'],
    }[kind] -%}
    {%- set value = env_var(names[0], '') | trim -%}
    {%- if value -%}
        {%- if value.startswith('~/') -%}
            {%- set value = env_var('HOME', '') ~ value[1:] -%}
        {%- endif -%}
        {%- if not value.startswith('/') or modules.re.search('[\\x00-\\x1f\\x7f]', value)
                or value | length > 4096 -%}
            {{ exceptions.raise_compiler_error(
                "Setting " ~ names[0] ~ " must be an absolute file path without control "
                ~ "characters (docs/privacy.md).") }}
        {%- endif -%}
        {{ return(value) }}
    {%- endif -%}
    {%- set base = env_var('XDG_CONFIG_HOME', '') | trim or env_var('HOME', '') ~ '/.config' -%}
    {{ return(base ~ '/customer-analytics/' ~ names[1]) }}
{%- endmacro %}
