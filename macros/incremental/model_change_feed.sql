{#- Change feeds between incremental models (docs/incremental.md, "Change feeds"). A model each
    of whose rows is a function of one row of another incremental model (the producer), e.g.
    fct_sessions of int_sessions_stitched, names it in meta.change_feed: {"from": "<producer>",
    "key": "<key column>"}. Each run of the producer records the keys it wrote
    (staging.model_changed_keys, under a new run number in staging.model_runs; a full build
    records the run alone, marked full), and an incremental run of the reader reads only the
    producer's rows whose key the producer wrote since the reader last read it, instead of
    every row (int_orders_sequenced, whose rows depend on every order of their customer, reads
    the customers of those rows instead; rpt_lifecycle_transitions the months from the first
    one the lifecycle rebuilt, and the month before it). It reads every row when it has no
    record of a read (its first incremental run) or when the producer was built in full
    since. Rows the producer deleted are deleted by the reader's own delete_rows_no_longer_in.
    What else a reader's row depends on must change only with a change of its producer's rows
    or a full build: fct_sessions also reads the pseudonyms of the session's customers, and a
    customer who joins or leaves the CRM export has their sessions judged again upstream
    (unknown_customer), so int_sessions_stitched writes or deletes them; a new
    pseudonymisation key rebuilds every incremental model in full. -#}


{#- staging.model_runs (model_name, run_id, is_full): one row per run of a producer;
    staging.model_changed_keys (model_name, run_id, key_value): the keys each incremental run
    wrote; staging.model_change_reads (reader, model_name, run_id): the producer's last run
    each reader has read. State tables (raw_state_relation). -#}
{% macro model_change_feed_relation(name, create=false) -%}
    {%- set columns = {
        'model_runs': 'model_name varchar, run_id bigint, is_full boolean',
        'model_changed_keys': 'model_name varchar, run_id bigint, key_value varchar',
        'model_change_reads': 'reader varchar, model_name varchar, run_id bigint',
    } -%}
    {{ return(raw_state_relation(name, columns[name], create=create)) }}
{%- endmacro %}


{#- The models that read `model_name`'s change feed (meta.change_feed.from). -#}
{% macro model_change_feed_readers(model_name) -%}
    {%- set readers = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
            and ((node.config.meta or {}).get('change_feed') or {}).get('from') == model_name -%}
        {%- do readers.append(node.name) -%}
    {%- endfor -%}
    {{ return(readers) }}
{%- endmacro %}


{#- The column of `model_name`'s rows its change feed records: the key its readers name
    (meta.change_feed.key), the same for every reader. -#}
{% macro model_change_feed_key(model_name) -%}
    {%- set keys = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model'
            and ((node.config.meta or {}).get('change_feed') or {}).get('from') == model_name -%}
        {%- if node.config.meta.change_feed.key not in keys -%}
            {%- do keys.append(node.config.meta.change_feed.key) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if keys | length > 1 -%}
        {%- do exceptions.raise_compiler_error('The readers of ' ~ model_name ~ "'s change feed"
            ~ ' name different keys (' ~ keys | join(', ') ~ ') in meta.change_feed.key: name'
            ~ ' one column for all of them.') -%}
    {%- endif -%}
    {{ return(keys[0] if keys else none) }}
{%- endmacro %}


{#- Called by record_incremental_source (the post-hook of every incremental model): when a
    model reads this one's change feed, record this run and, on an incremental run, the keys
    it wrote (the feed's key of the rows dbt inserted, from its temporary table
    `temporary`). -#}
{% macro record_model_changed_keys(temporary) -%}
    {%- if not model_change_feed_readers(model.name) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set runs = model_change_feed_relation('model_runs') -%}
    {%- set run_id = run_query('select coalesce(max(run_id), 0) + 1 from ' ~ runs
        ~ ' where model_name = ' ~ sql_string(model.name)).columns[0].values()[0] | int -%}
    {%- do run_query('insert into ' ~ runs ~ ' values (' ~ sql_string(model.name) ~ ', '
        ~ run_id ~ ', ' ~ ('false' if temporary else 'true') ~ ')') -%}
    {%- if temporary -%}
        {%- set key = model_change_feed_key(model.name) -%}
        {%- do run_query('insert into ' ~ model_change_feed_relation('model_changed_keys')
            ~ ' select distinct ' ~ sql_string(model.name) ~ ', ' ~ run_id ~ ', cast(' ~ key
            ~ ' as varchar) from temp.main.' ~ adapter.quote(temporary) ~ ' where ' ~ key
            ~ ' is not null') -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#- The keys an incremental run of a change-feed reader reads (see above): a query of one
    column, key_value (the keys, as text, the producer wrote since the last read), or none
    when it reads every row. -#}
{% macro model_change_feed_keys() -%}
    {%- set feed = (model.config.meta or {}).get('change_feed') or {} -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set read = run_query('select max(run_id) from ' ~ model_change_feed_relation('model_change_reads')
        ~ ' where reader = ' ~ sql_string(model.name) ~ ' and model_name = '
        ~ sql_string(feed['from'])).columns[0].values()[0] -%}
    {%- if read is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set full_since = run_query('select count(*) from ' ~ model_change_feed_relation('model_runs')
        ~ ' where model_name = ' ~ sql_string(feed['from']) ~ ' and run_id > ' ~ read
        ~ ' and is_full').columns[0].values()[0] -%}
    {%- if full_since > 0 -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return('select changed_keys.key_value from ' ~ model_change_feed_relation('model_changed_keys')
        ~ ' as changed_keys where changed_keys.model_name = ' ~ sql_string(feed['from'])
        ~ ' and changed_keys.run_id > ' ~ read) }}
{%- endmacro %}


{#- The condition an incremental run of a change-feed reader puts on the producer's rows (see
    above): `true` (every row) or the rows of the keys written since the last read. -#}
{% macro model_change_feed_filter() -%}
    {%- set keys = model_change_feed_keys() -%}
    {%- if keys is none -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('cast(' ~ model.config.meta.change_feed.key ~ ' as varchar) in (' ~ keys ~ ')') }}
{%- endmacro %}


{#- Post-hook of a change-feed reader: record the producer's last run as read (on a full build
    too), and delete the keys every reader has read. -#}
{% macro record_model_change_read() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set producer = ((model.config.meta or {}).get('change_feed') or {}).get('from') -%}
    {%- set reads = model_change_feed_relation('model_change_reads') -%}
    {%- do run_query('delete from ' ~ reads ~ ' where reader = ' ~ sql_string(model.name)
        ~ ' and model_name = ' ~ sql_string(producer)) -%}
    {%- do run_query('insert into ' ~ reads ~ ' select ' ~ sql_string(model.name) ~ ', '
        ~ sql_string(producer) ~ ', coalesce(max(run_id), 0) from '
        ~ model_change_feed_relation('model_runs') ~ ' where model_name = ' ~ sql_string(producer)) -%}
    {#- keys every reader has read; a reader that never read keeps them all -#}
    {%- set oldest = [] -%}
    {%- for reader in model_change_feed_readers(producer) -%}
        {%- do oldest.append('coalesce((select max(run_id) from ' ~ reads ~ ' where reader = '
            ~ sql_string(reader) ~ ' and model_name = ' ~ sql_string(producer) ~ '), 0)') -%}
    {%- endfor -%}
    delete from {{ model_change_feed_relation('model_changed_keys') }}
    where
        model_name = {{ sql_string(producer) }}
        and run_id <= {{ 'least(' ~ oldest | join(', ') ~ ')' if oldest | length > 1 else oldest[0] }}
{%- endmacro %}
