{#- The rows of int_email_messages_rolled_up (one per email message: customer × campaign) of
    the accepted email events in `events` (a relation or CTE with customer_id, campaign_id,
    event_type and occurred_at): the one definition of a message's row, used by the model and
    by its post-hook below. -#}
{% macro email_message_rows(events) -%}
    select
        {{ dbt.hash("customer_id || '|' || campaign_id") }} as message_id,
        customer_id,
        campaign_id,
        sent_at,
        delivered_at,
        cast({{ dbt.date_trunc('month', 'delivered_at') }} as date) as delivered_month,
        first_opened_at,
        first_clicked_at,
        bounced_at,
        unsubscribed_at,
        delivered_at is not null as is_delivered,
        delivered_at is not null and first_opened_at is not null as is_opened,
        delivered_at is not null and first_clicked_at is not null as is_clicked,
        event_count
    from (
        select
            customer_id,
            campaign_id,
            {%- for column, event_type in email_message_timestamps().items() %}
            min(case when event_type = '{{ event_type }}' then occurred_at end) as {{ column }},
            {%- endfor %}
            count(*) as event_count
        from {{ events }}
        group by customer_id, campaign_id
    ) as rolled_up
{%- endmacro %}


{#- A message's timestamp columns: the first event of each type. -#}
{% macro email_message_timestamps() -%}
    {{ return({
        'sent_at': 'sent',
        'delivered_at': 'delivered',
        'first_opened_at': 'opened',
        'first_clicked_at': 'clicked',
        'bounced_at': 'bounced',
        'unsubscribed_at': 'unsubscribed',
    }) }}
{%- endmacro %}


{#- Post-hook of int_email_messages_rolled_up on an incremental run: roll up again the
    messages that lost an accepted event the change feed does not name (quarantined by a late
    conflicting copy, gone from a day partition landed again, moved to another campaign, of a
    customer gone from the CRM export). The run rolled up every message it touched, and a
    message nobody touched can only lose events (an event added to it is in the feed), so the
    model's events (the sum of event_count) equal the accepted events exactly when no message
    lost one: two scans of one column. Only when they differ is each message's count compared
    with its accepted events; the messages that differ are deleted, rolled up again from their
    events (those left without one stay deleted), and added to the run's data test scope. -#}
{% macro roll_up_email_messages_that_lost_events(events) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('select 1') }}
    {%- endif -%}
    {%- set totals = run_query('select (select coalesce(sum(event_count), 0) from ' ~ this
        ~ '), (select count(*) from ' ~ events ~ ')').rows[0] -%}
    {%- if totals[0] == totals[1] -%}
        {{ return('select 1') }}
    {%- endif -%}
    {#- a temporary table of this connection, replaced by the next run's -#}
    {%- set lost = adapter.quote(this.identifier ~ '__lost_events') -%}
    {%- set hooks = [
        'create or replace temporary table ' ~ lost ~ ' as select messages.message_id,'
            ~ ' messages.customer_id, messages.campaign_id from ' ~ this ~ ' as messages'
            ~ ' left join (select customer_id, campaign_id, count(*) as event_count from '
            ~ events ~ ' group by customer_id, campaign_id) as counted'
            ~ ' on messages.customer_id = counted.customer_id'
            ~ ' and messages.campaign_id = counted.campaign_id'
            ~ ' where counted.event_count is distinct from messages.event_count',
        'delete from ' ~ this ~ ' where message_id in (select message_id from ' ~ lost ~ ')',
        'insert into ' ~ this ~ ' ' ~ email_message_rows('(select accepted.* from ' ~ events
            ~ ' as accepted inner join ' ~ lost ~ ' as lost_messages'
            ~ ' on accepted.customer_id = lost_messages.customer_id'
            ~ ' and accepted.campaign_id = lost_messages.campaign_id)'),
        'insert into ' ~ data_test_scopes_relation() ~ ' select ' ~ sql_string(model.name) ~ ', '
            ~ sql_string(invocation_id) ~ ', message_id from ' ~ lost,
    ] -%}
    {{ return(hooks | join(';\n')) }}
{%- endmacro %}
