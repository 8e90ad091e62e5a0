{#-
    The project's settings (dbt vars), each parsed by type and range in this one place before
    it can reach SQL or a path. Models and macros read a setting with setting('<name>'), never
    with var() directly; a bad value stops dbt at parse time, before any SQL runs, with one
    sentence naming the setting, the value given and the form allowed.

    Kinds: int (a whole number in [min, max], given as a number or as digits), number (a
    decimal number in [min, max], given as a number or as text like 1.5), date
    (YYYY-MM-DD, a real date; '' where empty is allowed), share (a number in (0, 1]), path (a
    directory, taken literally), choice. The raw export dialect (raw_format and friends) is
    validated by raw_format().
-#}
{% macro settings_spec() -%}
    {{ return({
        'raw_data_path': {'kind': 'path', 'default': ''},
        'as_of_date': {'kind': 'date', 'default': '', 'empty': true},
        'landing_days_from': {'kind': 'date', 'default': '', 'empty': true},
        'landing_days_to': {'kind': 'date', 'default': '', 'empty': true},
        'earliest_valid_date': {'kind': 'date', 'default': '2000-01-01', 'empty': false},
        'future_tolerance_days': {'kind': 'int', 'default': 1, 'min': 0, 'max': 3650},
        'incremental_lookback_days': {'kind': 'int', 'default': 3, 'min': 0, 'max': 3650},
        'churn_window_days': {'kind': 'int', 'default': 180, 'min': 1, 'max': 3650},
        'engagement_window_days': {'kind': 'int', 'default': 90, 'min': 1, 'max': 3650},
        'engagement_click_weight': {'kind': 'int', 'default': 2, 'min': 0, 'max': 1000},
        'engaged_session_min_seconds': {'kind': 'int', 'default': 60, 'min': 0, 'max': 86400},
        'engaged_session_min_pageviews': {'kind': 'int', 'default': 3, 'min': 1, 'max': 10000},
        'nps_segment_window_months': {'kind': 'int', 'default': 12, 'min': 1, 'max': 120},
        'nps_promoter_min_score': {'kind': 'int', 'default': 9, 'min': 1, 'max': 10},
        'nps_passive_min_score': {'kind': 'int', 'default': 7, 'min': 1, 'max': 10},
        'max_amount_eur': {'kind': 'int', 'default': 1000000000, 'min': 1, 'max': 999999999999},
        'rejection_alarm_share': {'kind': 'share', 'default': 0.5},
        'rejection_alarm_min_rows': {'kind': 'int', 'default': 20, 'min': 1, 'max': 1000000000},
        'replenishment_due_window_days': {'kind': 'int', 'default': 7, 'min': 0, 'max': 365},
        'lifecycle_new_window_days': {'kind': 'int', 'default': 90, 'min': 1, 'max': 3650},
        'lifecycle_loyal_min_orders': {'kind': 'int', 'default': 3, 'min': 2, 'max': 1000},
        'lifecycle_loyal_top_value_share': {'kind': 'share', 'default': 0.1},
        'lifecycle_lapsing_gap_ratio': {'kind': 'number', 'default': 1.5, 'min': 1, 'max': 100},
        'lifecycle_trend_window_months': {'kind': 'int', 'default': 6, 'min': 1, 'max': 60},
        'lifecycle_trend_min_change': {'kind': 'share', 'default': 0.2},
        'programme_min_tenure_days': {'kind': 'int', 'default': 365, 'min': 365, 'max': 3650},
        'clv_holdout_days': {'kind': 'int', 'default': 180, 'min': 7, 'max': 1825},
        'audience_high_value_share': {'kind': 'share', 'default': 0.2},
        'event_retention_days': {'kind': 'int', 'default': 1095, 'min': 30, 'max': 36500},
        'audience_nps_recent_days': {'kind': 'int', 'default': 90, 'min': 1, 'max': 3650},
        'data_tests_scope': {'kind': 'choice', 'default': 'changed', 'choices': ['changed', 'all']},
        'spark_table_format': {'kind': 'choice', 'default': 'parquet', 'choices': ['parquet', 'delta', 'iceberg']},
    }) }}
{%- endmacro %}


{#- The validated value of one setting (see settings_spec). -#}
{% macro setting(name) -%}
    {%- set spec = settings_spec() -%}
    {%- if name not in spec -%}
        {{ exceptions.raise_compiler_error("Unknown setting '" ~ name ~ "' (macros/settings/setting.sql).") }}
    {%- endif -%}
    {%- set rule = spec[name] -%}
    {%- set given = var(name, rule.default) -%}
    {#- the value as given, cut to 60 characters, control characters shown as '?' -#}
    {%- set shown = modules.re.sub('[\x00-\x1f\x7f]', '?', (given | string)[:60]) -%}
    {%- set problem = "Setting " ~ name ~ " (dbt var) is '" ~ shown ~ "'" -%}

    {%- if rule.kind == 'int' -%}
        {%- if given is boolean -%}
            {%- set value = none -%}
        {%- elif given is integer -%}
            {%- set value = given -%}
        {%- elif given is string and modules.re.match('^[0-9]{1,12}$', given | trim) -%}
            {%- set value = given | trim | int -%}
        {%- else -%}
            {%- set value = none -%}
        {%- endif -%}
        {%- if value is none or value < rule.min or value > rule.max -%}
            {{ exceptions.raise_compiler_error(problem ~ ": it must be a whole number from "
                ~ rule.min ~ " to " ~ rule.max ~ ".") }}
        {%- endif -%}
        {{ return(value) }}

    {%- elif rule.kind == 'share' -%}
        {%- if given is boolean -%}
            {%- set value = none -%}
        {%- elif given is number -%}
            {%- set value = given | float -%}
        {%- elif given is string and modules.re.match('^(0|1)?\.[0-9]{1,6}$|^1$', given | trim) -%}
            {%- set value = given | trim | float -%}
        {%- else -%}
            {%- set value = none -%}
        {%- endif -%}
        {%- if value is none or value != value or value <= 0 or value > 1 -%}
            {{ exceptions.raise_compiler_error(problem ~ ": it must be a number above 0 and at "
                ~ "most 1 (a share of rows, e.g. 0.5).") }}
        {%- endif -%}
        {{ return(value) }}

    {%- elif rule.kind == 'number' -%}
        {%- if given is boolean -%}
            {%- set value = none -%}
        {%- elif given is number -%}
            {%- set value = given | float -%}
        {%- elif given is string and modules.re.match('^[0-9]{1,6}(\.[0-9]{1,6})?$', given | trim) -%}
            {%- set value = given | trim | float -%}
        {%- else -%}
            {%- set value = none -%}
        {%- endif -%}
        {%- if value is none or value != value or value < rule.min or value > rule.max -%}
            {{ exceptions.raise_compiler_error(problem ~ ": it must be a number from "
                ~ rule.min ~ " to " ~ rule.max ~ ", e.g. " ~ rule.default ~ ".") }}
        {%- endif -%}
        {{ return(value) }}

    {%- elif rule.kind == 'date' -%}
        {%- set text = (given if given is not none else '') | string | trim -%}
        {%- if text == '' and rule.empty -%}
            {{ return('') }}
        {%- endif -%}
        {%- set valid = modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', text) -%}
        {%- if valid -%}
            {%- set parts = text.split('-') | map('int') | list -%}
            {%- set valid = parts[0] >= 1900 and parts[0] <= 2999 and parts[1] >= 1 and parts[1] <= 12
                and parts[2] >= 1 and parts[2] <= 31 -%}
            {%- if valid -%}
                {#- a real calendar date (31 April and 29 February 2023 are not) -#}
                {%- set days = [31, 29 if parts[0] % 4 == 0 and (parts[0] % 100 != 0 or parts[0] % 400 == 0) else 28,
                    31, 30, 31, 30, 31, 31, 30, 31, 30, 31] -%}
                {%- set valid = parts[2] <= days[parts[1] - 1] -%}
            {%- endif -%}
        {%- endif -%}
        {%- if not valid -%}
            {{ exceptions.raise_compiler_error(problem ~ ": give a real date as YYYY-MM-DD "
                ~ "between 1900 and 2999" ~ (", or leave it empty" if rule.empty else "") ~ ".") }}
        {%- endif -%}
        {{ return(text) }}

    {%- elif rule.kind == 'choice' -%}
        {%- if given is not string or (given | trim) not in rule.choices -%}
            {{ exceptions.raise_compiler_error(problem ~ ": it must be one of "
                ~ rule.choices | join(', ') ~ ".") }}
        {%- endif -%}
        {{ return(given | trim) }}

    {%- elif rule.kind == 'path' -%}
        {%- if given is none -%}
            {{ return('') }}
        {%- endif -%}
        {%- if given is not string -%}
            {{ exceptions.raise_compiler_error(problem ~ ": it must be the path of a directory "
                ~ "(text), or empty for the shipped sample data.") }}
        {%- endif -%}
        {%- set text = given | trim -%}
        {%- if modules.re.search('[\x00-\x1f\x7f\\\\]', text) or text | length > 1024 -%}
            {{ exceptions.raise_compiler_error(problem ~ ": a directory path must be at most "
                ~ "1024 characters with no control characters (tabs, line breaks, NUL) and no "
                ~ "backslash.") }}
        {%- endif -%}
        {#- one folder however it is spelt: '//' is '/', a trailing '/' is dropped -#}
        {%- set text = modules.re.sub('/{2,}', '/', text) -%}
        {{ return(text.rstrip('/') if text not in ['/'] else text) }}
    {%- endif -%}
    {{ exceptions.raise_compiler_error("Setting " ~ name ~ " has no known kind.") }}
{%- endmacro %}


{#- CUSTOMER_ANALYTICS_LANDING_DIR, validated like var raw_data_path ('' when unset). -#}
{% macro landing_dir_from_env() -%}
    {%- set text = env_var('CUSTOMER_ANALYTICS_LANDING_DIR', '') | trim -%}
    {%- if modules.re.search('[\x00-\x1f\x7f\\\\]', text) or text | length > 1024 -%}
        {{ exceptions.raise_compiler_error("Setting CUSTOMER_ANALYTICS_LANDING_DIR is '"
            ~ modules.re.sub('[\x00-\x1f\x7f]', '?', text[:60]) ~ "': a path must be 1 to 1024 "
            ~ "characters with no control characters (tabs, line breaks, NUL) and no backslash.") }}
    {%- endif -%}
    {{ return(text.rstrip('/') if text not in ['/'] else text) }}
{%- endmacro %}


{#- A JSON mapping from an environment variable ({} when unset), for the dialect settings
    the environment may give (CUSTOMER_ANALYTICS_RAW_FORMAT and friends). -#}
{% macro json_from_env(name) -%}
    {%- set text = env_var(name, '') | trim -%}
    {%- if text == '' -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set value = fromjson(text) -%}
    {%- if value is not mapping -%}
        {{ exceptions.raise_compiler_error("Setting " ~ name ~ " is '"
            ~ modules.re.sub('[\x00-\x1f\x7f]', '?', text[:60])
            ~ "': it must be a JSON object, e.g. '{\"delimiter\": \";\"}'.") }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- on-run-start (first hook): parse every setting, so that a bad one stops the run before
    any model's SQL runs, whichever models are selected. -#}
{% macro validate_settings() -%}
    {%- for name in settings_spec() -%}
        {%- do setting(name) -%}
    {%- endfor -%}
    {%- if setting('nps_passive_min_score') >= setting('nps_promoter_min_score') -%}
        {{ exceptions.raise_compiler_error(
            "Setting nps_passive_min_score (dbt var) is '" ~ setting('nps_passive_min_score')
            ~ "': it must be below nps_promoter_min_score ('" ~ setting('nps_promoter_min_score')
            ~ "').") }}
    {%- endif -%}
    {%- for table_name in raw_table_names() -%}
        {%- do raw_format(table_name) -%}
    {%- endfor -%}
    {%- do validate_env_settings([
        ['CUSTOMER_ANALYTICS_THREADS', '1', '\\s*(([1-9]|[1-5][0-9]|6[0-4])\\s*)?',
            'a whole number from 1 to 64', 'docs/configuration.md'],
    ]) -%}
    {%- if target.type == 'spark' -%}
        {%- do validate_spark_settings() -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#- Environment settings the profile reads (profiles.yml), checked against a pattern:
    `checks` is a list of [name, default, pattern, what to give, doc]. A bad value stops the
    run here, naming the setting (CUSTOMER_ANALYTICS_THREADS: dbt's own error was a Python
    traceback, "max_workers must be greater than 0"). -#}
{% macro validate_env_settings(checks) -%}
    {%- for name, default, pattern, form, doc in checks -%}
        {%- set value = env_var(name, default) -%}
        {%- if not modules.re.fullmatch(pattern, value) -%}
            {{ exceptions.raise_compiler_error("Setting " ~ name ~ " is '"
                ~ modules.re.sub('[\x00-\x1f\x7f]', '?', value[:60]) ~ "': give " ~ form
                ~ " (" ~ doc ~ ").") }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}


{#- The Spark target's environment (profiles.yml, docs/spark.md): CUSTOMER_ANALYTICS_SPARK_CORES
    a whole number 1 to 64, CUSTOMER_ANALYTICS_SPARK_MEMORY a JVM size (e.g. 4g, 512m), and
    CUSTOMER_ANALYTICS_SPARK_DIR a path without control characters. Spark reads them when the
    session starts; a bad one stops the run here, before any model runs. -#}
{% macro validate_spark_settings() -%}
    {%- do validate_env_settings([
        ['CUSTOMER_ANALYTICS_SPARK_CORES', '2', '([1-9]|[1-5][0-9]|6[0-4])',
            'a whole number from 1 to 64', 'docs/spark.md'],
        ['CUSTOMER_ANALYTICS_SPARK_MEMORY', '4g', '[1-9][0-9]{0,5}[kKmMgGtT]',
            'a JVM memory size such as 4g or 512m', 'docs/spark.md'],
        ['CUSTOMER_ANALYTICS_SPARK_DIR', 'warehouse/spark', '[^\x00-\x1f\x7f]{1,1024}',
            'a folder path of 1 to 1024 characters without control characters', 'docs/spark.md'],
    ]) -%}
{%- endmacro %}
