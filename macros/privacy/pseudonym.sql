{#- A customer's pseudonym, the customer_key of the public marts: HMAC-SHA256 of the
    customer_id (UTF-8) under the pseudonymisation key, lowercase hex (docs/privacy.md), as
    orchestration/lib/privacy.py computes it. The key is read at run time, never written into
    SQL text. On DuckDB the project's dbt plugin computes it (and creates a missing key);
    on Spark, Spark SQL computes it from the key file (privacy_file('key')), which must exist. -#}
{% macro pseudonym(column) -%}
    {{ return(adapter.dispatch('pseudonym', 'customer_analytics')(column)) }}
{%- endmacro %}

{% macro duckdb__pseudonym(column) -%}
    customer_analytics_pseudonym({{ column }})
{%- endmacro %}

{#- Spark: spark_hmac_sha256 of the customer_id's UTF-8 bytes. -#}
{% macro spark__pseudonym(column) -%}
    {{ spark_hmac_sha256("encode(" ~ column ~ ", 'UTF-8')") }}
{%- endmacro %}


{#- HMAC-SHA256 (RFC 2104, lowercase hex) of `message` (a binary SQL expression) under the
    pseudonymisation key, from Spark's SHA-256: the key (its file's text without leading and
    trailing whitespace, as UTF-8; hashed first when longer than SHA-256's 64-byte block) is
    padded to 64 bytes and XORed with 0x36 and 0x5c into the inner and outer pads, held by a
    temporary view that reads the key file when the model runs. The key file must exist. -#}
{% macro spark_hmac_sha256(message) -%}
    {%- if execute -%}
        {%- set file = privacy_file('key') -%}
        {%- if not spark_files_exist([file]) -%}
            {{ exceptions.raise_compiler_error(
                "The pseudonymisation key " ~ file ~ " does not exist. On Spark, dbt does not "
                ~ "create it: run `customer-analytics privacy-key` once (or point "
                ~ "CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE at the key the DuckDB builds use), "
                ~ "then run again (docs/privacy.md).") }}
        {%- endif -%}
        {%- do run_query('create or replace temporary view customer_analytics_key_file using text'
            ~ ' options (path ' ~ sql_string(hadoop_literal_glob(file)) ~ ", wholetext 'true')") -%}
        {%- set key_text = "regexp_replace(value, '^\\\\s+|\\\\s+$', '')" -%}
        {%- set length = run_query('select length(' ~ key_text ~ ') from customer_analytics_key_file')
            .columns[0].values() | list -%}
        {%- if length | length != 1 or length[0] < 32 -%}
            {{ exceptions.raise_compiler_error(
                "The pseudonymisation key in " ~ file ~ " is shorter than 32 characters: use a "
                ~ "longer one (docs/privacy.md).") }}
        {%- endif -%}
        {%- set pad -%}
            unhex(concat_ws('', transform(sequence(1, 64), i -> lpad(hex(
                cast(conv(hex(substr(block, i, 1)), 16, 10) as int) ^ {byte}), 2, '0'))))
        {%- endset -%}
        {%- do run_query('create or replace temporary view customer_analytics_key_pads as select '
            ~ pad | replace('{byte}', '54') ~ ' as inner_pad, ' ~ pad | replace('{byte}', '92')
            ~ ' as outer_pad from (select concat(hashed, unhex(repeat(\'00\', 64 - octet_length(hashed))))'
            ~ ' as block from (select case when octet_length(key) > 64 then unhex(sha2(key, 256))'
            ~ ' else key end as hashed from (select encode(' ~ key_text ~ ", 'UTF-8') as key"
            ~ ' from customer_analytics_key_file)))') -%}
    {%- endif -%}
    sha2(concat(
        (select outer_pad from customer_analytics_key_pads),
        unhex(sha2(concat((select inner_pad from customer_analytics_key_pads), {{ message }}), 256))
    ), 256)
{%- endmacro %}
