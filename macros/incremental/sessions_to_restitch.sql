{#- Incremental identity stitching: the sessions of `sessions_relation` whose attribution may
    have changed since the last run, as a condition for a where clause. Sessions inside the
    window or not yet in this model, and every session on a cookie (anonymous_id) that gained
    an identified session (inside the window or new to this model) or lost one (to the
    quarantine): either can change the cookie's owner. -#}
{% macro sessions_to_restitch(sessions_relation, cutoff) -%}
    (
        started_at >= {{ cutoff }}
        or session_id not in (select session_id from {{ this }})
        or anonymous_id in (
            select anonymous_id
            from {{ sessions_relation }}
            where
                customer_id is not null
                and (
                    started_at >= {{ cutoff }}
                    or session_id not in (select session_id from {{ this }})
                )
            union
            select anonymous_id
            from {{ this }}
            where
                customer_id is not null
                and session_id not in (select session_id from {{ sessions_relation }})
        )
    )
{%- endmacro %}
