{#-
    Incremental landing of the raw tables (docs/incremental.md, "Day-partitioned landing").
    A raw model holds the rows of every raw file of its table (the whole-table file and the day
    partitions), each row tagged with its _source_file. A run reads only the files that are
    new or whose bytes changed (SHA-256), deletes the rows of changed and removed files first,
    and records per file what it landed (staging.raw_file_state). It lands everything again
    (dbt's full refresh) when the table now comes from elsewhere, is read with another export
    dialect, under other erasure requests or pseudonymisation key, or with another retention.

    For the incremental models downstream, each run also records the keys (the contract's
    primary column, cleaned as staging cleans it) on the rows it added or removed from day
    partitions (staging.raw_changed_keys) and the run itself (staging.raw_loads): those models
    re-judge exactly those keys, however old, besides their lookback window. A changed
    whole-table file records no keys: for it the lookback window applies, as before.
-#}

{#- staging.<name> (`columns`: SQL column definitions; `added_columns`: those added since the
    table was first kept, each `name type`). The on-run-start hook (create_landing_state)
    creates every such table if missing (`create`), before models run in parallel threads (two
    threads creating one table at once would conflict); a node then only names it. Commands
    that run no hooks (compile, show, docs generate) create it where they first need it. -#}
{% macro raw_state_relation(name, columns, added_columns=[], create=false) -%}
    {%- set schema = generate_schema_name('staging', none) -%}
    {%- set relation = adapter.quote(schema) ~ '.' ~ name -%}
    {%- if create or not landing_state_created_at_run_start() -%}
        {%- set statements = ['create schema if not exists ' ~ adapter.quote(schema),
            'create table if not exists ' ~ relation ~ ' (' ~ columns ~ ')'] -%}
        {%- for column in added_columns -%}
            {%- do statements.append('alter table ' ~ relation ~ ' add column if not exists ' ~ column) -%}
        {%- endfor -%}
        {%- do run_query(statements | join(';\n')) -%}
    {%- endif -%}
    {{ return(relation) }}
{%- endmacro %}


{#- Whether this command ran the on-run-start hooks, which create the landing state tables
    (create_landing_state): dbt runs them before the nodes of build, run, test, seed and
    snapshot (and of retry, which repeats one of those). -#}
{% macro landing_state_created_at_run_start() -%}
    {{ return(flags.WHICH in ['build', 'run', 'test', 'seed', 'snapshot', 'retry']) }}
{%- endmacro %}


{% macro raw_file_state_relation(create=false) -%}
    {{ return(raw_state_relation('raw_file_state', 'table_name varchar, file varchar, size bigint,'
        ~ ' last_modified timestamptz, sha256 varchar, hashed_at timestamptz', create=create)) }}
{%- endmacro %}


{#- whole_files_read: the whole-table files read (their keys are not recorded: the models
    downstream judge their lookback window again; a removed or swapped whole-table file moves
    the landing location, so its table lands in full, is_full); null on loads recorded before
    it. -#}
{% macro raw_loads_relation(create=false) -%}
    {{ return(raw_state_relation('raw_loads', 'table_name varchar, load_id bigint,'
        ~ ' is_full boolean, files_read integer, loaded_at timestamptz',
        added_columns=['whole_files_read integer'], create=create)) }}
{%- endmacro %}


{% macro raw_changed_keys_relation(create=false) -%}
    {{ return(raw_state_relation('raw_changed_keys', 'table_name varchar, load_id bigint,'
        ~ ' key_value varchar', create=create)) }}
{%- endmacro %}


{#- on-run-start: every landing state table, created if missing before models run in parallel
    threads (two threads creating one table at once would conflict). -#}
{% macro create_landing_state() -%}
    {%- if execute and incremental_state_kept() -%}
        {%- do raw_file_state_relation(create=true) -%}
        {%- do raw_loads_relation(create=true) -%}
        {%- do raw_changed_keys_relation(create=true) -%}
        {%- do raw_expired_rows_relation(create=true) -%}
        {%- do incremental_state_relation(create=true) -%}
        {%- do source_state_relation('raw_source_state', create=true) -%}
        {%- do data_test_scopes_relation(create=true) -%}
        {%- do relationship_parent_keys_relation(create=true) -%}
        {%- for name in ['model_runs', 'model_changed_keys', 'model_change_reads'] -%}
            {%- do model_change_feed_relation(name, create=true) -%}
        {%- endfor -%}
        {%- for name in ['customer_lifecycle_inputs', 'customer_lifecycle_rebuild'] -%}
            {%- do customer_lifecycle_state_relation(name, create=true) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#- The raw files of a table now: the whole-table file (if any) and the day partitions. -#}
{% macro raw_landed_files(table_name) -%}
    {%- set directory = raw_data_directory() -%}
    {{ return({
        'whole': find_raw_files(directory, table_name),
        'partitions': find_raw_partitions(directory, table_name),
    }) }}
{%- endmacro %}


{#- Where a table is landed from, as raw_source_state.source_file records it: the whole-table
    file when there is one (day partitions may arrive beside it), else the partition folder
    (<directory>/<table>/). Another place lands the table again in full. -#}
{% macro raw_landing_location(table_name, landed) -%}
    {%- if landed.whole -%}
        {{ return(landed.whole[0]) }}
    {%- elif landed.partitions -%}
        {{ return(raw_data_directory() ~ '/' ~ table_name ~ '/') }}
    {%- endif -%}
    {{ return('none') }}
{%- endmacro %}


{#- This run's plan for raw.<table_name>, computed once per invocation (kept in a temporary
    table, read again by the hooks): {'full': whether everything is landed again, 'load_id',
    'files': [{file, size, last_modified, sha256, is_partition}], 'read': the files to read,
    'retract': the files whose rows are deleted first (changed or removed), 'location'}. A
    file's recorded digest is reused when its size and modification time are unchanged and it
    was not modified in the second it was hashed in (else it is read and hashed again). -#}
{% macro raw_load_plan(table_name) -%}
    {%- set cache = 'raw_load_plan_' ~ table_name ~ '_' ~ (invocation_id | string | replace('-', ''))[:12] -%}
    {%- if run_query("select count(*) from duckdb_tables() where temporary and table_name = "
            ~ sql_string(cache)).columns[0].values()[0] > 0 -%}
        {{ return(fromjson(run_query('select plan from temp.' ~ cache).columns[0].values()[0])) }}
    {%- endif -%}
    {%- set landed = raw_landed_files(table_name) -%}
    {%- set days = raw_landing_days() -%}
    {%- set directory = raw_data_directory() -%}
    {#- a run for some days (a Dagster partition or backfill) lands those days' partitions
        again, whether changed or not, and the whole-table files; other days stay as landed -#}
    {%- set in_scope = [] -%}
    {%- for file in landed.partitions
            if raw_day_in(raw_file_day(file, directory, table_name), days) -%}
        {%- do in_scope.append(file) -%}
    {%- endfor -%}
    {%- set all_files = landed.whole + in_scope -%}
    {%- set state = raw_file_state_relation() -%}
    {%- set exists = adapter.get_relation(this.database, this.schema, this.identifier) is not none -%}
    {#- landed in full (a first build, --full-refresh, a change of raw source): the incremental
        models downstream rebuild in full too. Not through is_incremental(), which asks
        should_full_refresh, which asks this plan. -#}
    {%- set configured = config.get('full_refresh') -%}
    {%- set changes = raw_source_changes(table_name) if exists else [] -%}
    {%- if changes -%}
        {{ log('Raw source changed (' ~ changes | join('; ') ~ '): landing raw.' ~ table_name
            ~ ' in full.', info=true) }}
    {%- endif -%}
    {%- set full = not exists or (flags.FULL_REFRESH if configured is none else configured)
        or changes | length > 0 -%}
    {%- set recorded = {} -%}
    {%- for row in run_query('select file, size, cast(last_modified as varchar), sha256,'
            ~ ' last_modified < date_trunc(\'second\', hashed_at) from ' ~ state
            ~ ' where table_name = ' ~ sql_string(table_name)) -%}
        {%- do recorded.update({row[0]: {'size': row[1], 'last_modified': row[2], 'sha256': row[3], 'settled': row[4]}}) -%}
    {%- endfor -%}
    {%- set files = [] -%}
    {%- if all_files -%}
        {%- set patterns = [] -%}
        {%- for file in all_files -%}
            {%- do patterns.append(sql_string(literal_glob(file))) -%}
        {%- endfor -%}
        {%- set listed = run_query('select filename, size, cast(last_modified as varchar) from read_blob(['
            ~ patterns | join(', ') ~ ']) order by filename') -%}
        {%- for file, size, last_modified in listed -%}
            {%- set known = recorded.get(file) -%}
            {%- if known and known.size == size and known.last_modified == last_modified and known.settled -%}
                {%- set digest = known.sha256 -%}
            {%- else -%}
                {%- set digest = raw_file_sha256(file) -%}
            {%- endif -%}
            {%- do files.append({'file': file, 'size': size, 'last_modified': last_modified,
                'sha256': digest, 'is_partition': file not in landed.whole}) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- set read = [] -%}
    {%- set retract = [] -%}
    {%- for entry in files -%}
        {%- set known = recorded.get(entry.file) -%}
        {%- if full or not known or known.sha256 != entry.sha256
                or (days is not none and entry.is_partition) -%}
            {%- do read.append(entry.file) -%}
            {%- if known -%}
                {%- do retract.append(entry.file) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endfor -%}
    {#- a gzip file cut short (an interrupted copy) or corrupt reads without an error in
        DuckDB, as the rows before the cut: refused before anything is read -#}
    {%- for file in read if file.endswith('.gz') -%}
        {%- set problem = raw_gzip_problem(file) -%}
        {%- if problem -%}
            {{ exceptions.raise_compiler_error("Raw file " ~ file ~ " is not a whole gzip file: "
                ~ problem ~ ". Copy or export it again, then run again; nothing was read.") }}
        {%- endif -%}
    {%- endfor -%}
    {%- set current = files | map(attribute='file') | list -%}
    {%- set kept = [] -%}
    {%- for file in recorded if file not in current -%}
        {%- set day = raw_file_day(file, directory, table_name) -%}
        {%- if day is none or raw_day_in(day, days) -%}
            {%- do retract.append(file) -%}
        {%- else -%}
            {#- another day's file: kept as landed (and as recorded) -#}
            {%- do kept.append(file) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set load_id = run_query('select coalesce(max(load_id), 0) + 1 from ' ~ raw_loads_relation()
        ~ ' where table_name = ' ~ sql_string(table_name)).columns[0].values()[0] -%}
    {%- if full and days is not none -%}
        {{ exceptions.raise_compiler_error(
            "raw." ~ table_name ~ " must be landed in full (a first build, --full-refresh or a "
            ~ "change of raw source), which a run for some days (landing_days_from "
            ~ days[0] ~ " to " ~ days[1] ~ ") cannot do: it would leave the other days out. "
            ~ "Run it without a day range (a Dagster run without a partition, or dbt build), "
            ~ "then backfill.") }}
    {%- endif -%}
    {#- every file is read again and none is kept (say one whole-table file with appended
        rows): written as a new table in one go (dbt's full-refresh path, cheaper than deleting
        and inserting every row), yet for the models downstream an incremental landing -#}
    {%- set replace = not full and read | length == files | length
        and recorded | length == retract | length and not kept -%}
    {%- set plan = {'full': full, 'replace': replace, 'load_id': load_id | int, 'files': files,
        'read': read, 'retract': [] if full else retract, 'kept': kept, 'days': days,
        'location': raw_landing_location(table_name, landed)} -%}
    {%- do run_query('create temp table ' ~ cache ~ ' as select ' ~ sql_string(tojson(plan)) ~ ' as plan') -%}
    {{ return(plan) }}
{%- endmacro %}


{#- The cleaned key of a raw row (the contract's primary column, as staging cleans it), or
    none for a table without one. -#}
{% macro raw_primary_key_sql(table_name) -%}
    {%- set contract = raw_contract(raw_source_name(table_name), table_name) -%}
    {%- set primary = contract.columns | selectattr('primary') | map(attribute='name') | list -%}
    {{ return(raw_parsed_value(contract, primary[0], raw_format(table_name)) if primary else none) }}
{%- endmacro %}


{#- The source (in _<source>__sources.yml) that declares raw table `table_name`. -#}
{% macro raw_source_name(table_name) -%}
    {%- for source in graph.sources.values() if source.name == table_name and source.schema == 'raw' -%}
        {{ return(source.source_name) }}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("No source declares the raw table '" ~ table_name ~ "'.") }}
{%- endmacro %}


{#- Pre-hook of the raw models: on an incremental run, delete the rows of changed and removed
    files, recording the keys on those that came from day partitions. -#}
{% macro retract_raw_files() -%}
    {%- if not execute or not incremental_state_kept() or adapter.get_relation(this.database, this.schema, this.identifier) is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set plan = raw_load_plan(table_name) -%}
    {%- if plan.full -%}
        {{ return('') }}
    {%- endif -%}
    {%- if plan.replace -%}
        {#- the new table replaces every row: record the keys of the old ones only -#}
        {%- do record_raw_changed_keys(table_name, plan, plan.retract) -%}
        {{ return('') }}
    {%- endif -%}
    {%- if not plan.retract -%}
        {{ return('') }}
    {%- endif -%}
    {%- set retracted = [] -%}
    {%- for file in plan.retract -%}
        {%- do retracted.append(sql_string(file)) -%}
    {%- endfor -%}
    {%- do record_raw_changed_keys(table_name, plan, plan.retract) -%}
    {%- do run_query('delete from ' ~ this ~ ' where _source_file in (' ~ retracted | join(', ') ~ ')') -%}
    {{ return('') }}
{%- endmacro %}


{#- Record the keys on the rows of `files` in raw.<table> that came from day partitions. -#}
{% macro record_raw_changed_keys(table_name, plan, files) -%}
    {%- set key_sql = raw_primary_key_sql(table_name) -%}
    {%- set whole = plan.files | rejectattr('is_partition') | map(attribute='file') | list -%}
    {%- set partitions = [] -%}
    {%- for file in files if file not in whole -%}
        {%- do partitions.append(sql_string(file)) -%}
    {%- endfor -%}
    {%- if plan.full or key_sql is none or not partitions -%}
        {{ return('') }}
    {%- endif -%}
    {%- do run_query('insert into ' ~ raw_changed_keys_relation() ~ ' select distinct '
        ~ sql_string(table_name) ~ ', ' ~ plan.load_id ~ ', ' ~ key_sql ~ ' from ' ~ this
        ~ ' where _source_file in (' ~ partitions | join(', ') ~ ')'
        ~ ' and ' ~ key_sql ~ ' is not null') -%}
{%- endmacro %}


{#- Post-hook of the raw models (before record_raw_source): record the keys on the rows this
    run added from day partitions, this run in staging.raw_loads, and every file now landed in
    staging.raw_file_state. -#}
{% macro record_raw_load() -%}
    {%- if not execute or not incremental_state_kept() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set table_name = this.identifier -%}
    {%- set plan = raw_load_plan(table_name) -%}
    {%- do record_raw_changed_keys(table_name, plan, plan.read) -%}
    {%- set whole_files = [] -%}
    {%- for entry in plan.files if not entry.is_partition and entry.file in plan.read -%}
        {%- do whole_files.append(entry.file) -%}
    {%- endfor -%}
    {%- do run_query('insert into ' ~ raw_loads_relation() ~ ' (table_name, load_id, is_full,'
        ~ ' files_read, loaded_at, whole_files_read) values (' ~ sql_string(table_name)
        ~ ', ' ~ plan.load_id ~ ', ' ~ plan.full ~ ', ' ~ plan.read | length ~ ', now(), '
        ~ whole_files | length ~ ')') -%}
    {#- keys every incremental model has read are not needed any more -#}
    {%- set consumed = [] -%}
    {%- for recorded in run_query('select raw_loads_consumed from ' ~ incremental_state_relation()).columns[0].values() -%}
        {%- do consumed.append((fromjson(recorded) if recorded else {}).get(table_name, 0)) -%}
    {%- endfor -%}
    {%- if plan.full -%}
        {#- the models downstream rebuild in full: no key is needed (nor kept: after an erasure
            none of the erased customers' keys may remain) -#}
        {%- do run_query('delete from ' ~ raw_changed_keys_relation() ~ ' where table_name = '
            ~ sql_string(table_name)) -%}
    {%- elif consumed -%}
        {%- do run_query('delete from ' ~ raw_changed_keys_relation() ~ ' where table_name = '
            ~ sql_string(table_name) ~ ' and load_id <= ' ~ consumed | min) -%}
    {%- endif -%}
    {%- set state = raw_file_state_relation() -%}
    {%- set kept = [] -%}
    {%- if plan.days is not none -%}
        {#- a run for some days keeps the record of the other days' files as landed (plan.kept
            among them) -#}
        {%- set landed_kept = run_query('select file from ' ~ state ~ ' where table_name = '
            ~ sql_string(table_name)).columns[0].values() | list -%}
        {%- set directory = raw_data_directory() -%}
        {%- set planned = plan.files | map(attribute='file') | list -%}
        {%- for file in landed_kept if file not in planned
                and raw_file_day(file, directory, table_name) is not none
                and not raw_day_in(raw_file_day(file, directory, table_name), plan.days) -%}
            {%- do kept.append(sql_string(file)) -%}
        {%- endfor -%}
    {%- endif -%}
    {%- do run_query('delete from ' ~ state ~ ' where table_name = ' ~ sql_string(table_name)
        ~ (' and file not in (' ~ kept | join(', ') ~ ')' if kept else '')) -%}
    {%- set values = [] -%}
    {%- for entry in plan.files -%}
        {%- do values.append('(' ~ sql_string(table_name) ~ ', ' ~ sql_string(entry.file) ~ ', '
            ~ entry.size ~ ', cast(' ~ sql_string(entry.last_modified) ~ ' as timestamptz), '
            ~ (sql_string(entry.sha256) if entry.sha256 else 'null') ~ ', now())') -%}
    {%- endfor -%}
    {%- if values -%}
        {%- do run_query('insert into ' ~ state ~ ' values ' ~ values | join(', ')) -%}
    {%- endif -%}
    {%- do land_expired_copies_again(table_name, plan) -%}
    {%- if plan.read or plan.retract -%}
        {{ log('Raw ' ~ table_name ~ ': ' ~ ('landed in full from ' if plan.full else 'read ')
            ~ plan.read | length ~ ' of ' ~ plan.files | length ~ ' file(s)'
            ~ (' (every file changed: written as a new table)' if plan.replace else '')
            ~ (', removed the rows of ' ~ plan.retract | length ~ ' changed or deleted file(s)'
               if plan.retract else '') ~ '.', info=true) }}
    {%- endif -%}
    {{ return('') }}
{%- endmacro %}


{#- Part of record_raw_load: the rows the retention window deleted
    (staging.raw_expired_rows) whose key this landing touched. A full landing forgets them
    all (the base model judges every row again, and expires again what is still too old).
    Otherwise every key of a row read or removed here that the window had deleted is judged
    again, with its other deleted copies landed again from their files: a late copy of an
    expired session with other values conflicts with it, as in a full build of the same files,
    and a row read again from a changed file is expired again. -#}
{% macro land_expired_copies_again(table_name, plan) -%}
    {%- if plan.full -%}
        {%- do run_query('delete from ' ~ raw_expired_rows_relation() ~ ' where table_name = '
            ~ sql_string(table_name)) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set touched = [] -%}
    {%- for file in plan.read + plan.retract if sql_string(file) not in touched -%}
        {%- do touched.append(sql_string(file)) -%}
    {%- endfor -%}
    {%- if not touched -%}
        {{ return('') }}
    {%- endif -%}
    {%- set key_sql = raw_primary_key_sql(table_name) -%}
    {%- if key_sql is none -%}
        {{ return('') }}
    {%- endif -%}
    {%- set condition -%}
        source_file in ({{ touched | join(', ') }})
        or key_value in (
            select {{ key_sql }} from {{ this }}
            where
                _source_file in ({{ touched | join(', ') }})
                and {{ key_sql }} in (
                    select key_value from {{ raw_expired_rows_relation() }}
                    where table_name = {{ sql_string(table_name) }}
                )
        )
    {%- endset -%}
    {%- do land_expired_rows_again(table_name, this, condition,
        'a landed file holds their key', plan.load_id, plan.read + plan.retract) -%}
    {{ return('') }}
{%- endmacro %}


{#- The days a run lands: vars landing_days_from and landing_days_to, else the environment's
    CUSTOMER_ANALYTICS_LANDING_DAYS ('YYYY-MM-DD..YYYY-MM-DD', set by a Dagster partition or
    backfill run; an environment variable read only at run time, so that another day range
    does not make dbt parse the project again): [from, to], or none for every day. -#}
{% macro raw_landing_days() -%}
    {%- set first = setting('landing_days_from') -%}
    {%- set last = setting('landing_days_to') -%}
    {%- if first == '' and last == '' -%}
        {%- set text = env_var('CUSTOMER_ANALYTICS_LANDING_DAYS', '') | trim -%}
        {%- if text == '' -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set found = modules.re.match('^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$', text) -%}
        {%- if not found or raw_partition_day(found.group(1) ~ '.csv') is none
                or raw_partition_day(found.group(2) ~ '.csv') is none -%}
            {{ exceptions.raise_compiler_error("Setting CUSTOMER_ANALYTICS_LANDING_DAYS is '"
                ~ modules.re.sub('[\x00-\x1f\x7f]', '?', text[:60]) ~ "': give two days as "
                ~ "YYYY-MM-DD..YYYY-MM-DD, or leave it empty (every day).") }}
        {%- endif -%}
        {%- set first = found.group(1) -%}
        {%- set last = found.group(2) -%}
    {%- endif -%}
    {%- if first == '' or last == '' or first > last -%}
        {{ exceptions.raise_compiler_error(
            "Settings landing_days_from ('" ~ first ~ "') and landing_days_to ('" ~ last
            ~ "') must both be dates (YYYY-MM-DD), the first not after the second, or both "
            ~ "empty (every day).") }}
    {%- endif -%}
    {{ return([first, last]) }}
{%- endmacro %}


{#- The day a raw file of `table_name` holds when it is a day partition in `directory`, else
    none (the whole-table file). -#}
{% macro raw_file_day(file, directory, table_name) -%}
    {%- set folder = directory ~ '/' ~ table_name ~ '/' -%}
    {{ return(raw_partition_day(file[folder | length:]) if file.startswith(folder) else none) }}
{%- endmacro %}


{#- Whether `day` (YYYY-MM-DD) lies in `days` ([from, to], inclusive; none: every day). -#}
{% macro raw_day_in(day, days) -%}
    {{ return(days is none or (day is not none and days[0] <= day and day <= days[1])) }}
{%- endmacro %}


{#- Why raw.<table_name> must be landed again in full: a sentence per reason, none when it can
    be landed incrementally (or does not exist yet). -#}
{% macro raw_source_changes(table_name) -%}
    {%- if adapter.get_relation(this.database, this.schema, this.identifier) is none -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set state = source_state_relation('raw_source_state') -%}
    {%- set rows = run_query('select source_file, raw_format, privacy_state, landing_settings from '
        ~ state ~ ' where table_name = ' ~ sql_string(table_name)).rows | list -%}
    {%- set files = run_query('select count(*) from ' ~ raw_file_state_relation()
        ~ ' where table_name = ' ~ sql_string(table_name)).columns[0].values()[0] -%}
    {#- a table landed from no file at all (a shop that exports no email events) records no
        file: it is still a landing, and an empty table stays one -#}
    {%- if not rows or (files == 0 and rows[0][0] != 'none') -%}
        {{ return([table_name ~ ' has no record of its landed files']) }}
    {%- endif -%}
    {%- set location, read_as, privacy_state, settings = rows[0] -%}
    {%- set changes = [] -%}
    {%- set now_location = raw_landing_location(table_name, raw_landed_files(table_name)) -%}
    {%- if location != now_location -%}
        {%- do changes.append(table_name ~ ' was landed from ' ~ location ~ ' and now comes from ' ~ now_location) -%}
    {%- endif -%}
    {%- if read_as != tojson(raw_format(table_name), sort_keys=true) -%}
        {%- do changes.append(table_name ~ ' is now read with another export dialect') -%}
    {%- endif -%}
    {%- if privacy_state != run_query('select customer_analytics_privacy_state()').columns[0].values()[0] -%}
        {%- do changes.append('the pseudonymisation key or the erasure requests changed') -%}
    {%- endif -%}
    {%- if settings != raw_landing_settings() -%}
        {%- do changes.append('the retention settings changed') -%}
    {%- endif -%}
    {{ return(changes) }}
{%- endmacro %}


{#- The settings under which raw rows leave a raw table (retention): another value lands the
    table again in full, so that rows kept by the new value come back. expired_rows_recorded:
    a warehouse landed before staging.raw_expired_rows was kept holds no record of the rows
    its retention deleted, so it is landed in full once. -#}
{% macro raw_landing_settings() -%}
    {{ return(tojson({'event_retention_days': setting('event_retention_days'),
        'as_of_date': setting('as_of_date'), 'expired_rows_recorded': true}, sort_keys=true)) }}
{%- endmacro %}
