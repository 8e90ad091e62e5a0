{#- Incremental identity stitching: the sessions whose row may differ from the one this model
    holds, as a condition for a where clause over the sessions: those inside the window, those
    base_web_analytics__sessions wrote since this model last read its change feed (new
    sessions, sessions judged again, rows added to or removed from a day partition; every
    session when there is no record of a read), and every session on a cookie (anonymous_id)
    whose owner changed,
    found by comparing `cookie_owners` (a relation of anonymous_id, owner_customer_id: the
    owners as of this run) with the stitched_customer_id of the anonymous sessions this model
    holds. A login only changes the anonymous sessions on its cookie when it changes the
    cookie's owner; re-stitching every session on a cookie that gained or lost a login
    re-stitched a quarter of all sessions each day at 1,000,000 customers. The feed replaced a
    comparison of every session with the sessions held (1.4 to 1.9 s of a daily run at L). -#}
{% macro sessions_to_restitch(cutoff, cookie_owners) -%}
    (
        started_at >= {{ cutoff }}
        or {{ model_change_feed_filter() }}
        or anonymous_id in (
            select held_sessions.anonymous_id
            from {{ this }} as held_sessions
            left join {{ cookie_owners }} as current_owners
                on held_sessions.anonymous_id = current_owners.anonymous_id
            where
                held_sessions.customer_id is null
                and held_sessions.stitched_customer_id
                is distinct from current_owners.owner_customer_id
        )
    )
{%- endmacro %}
