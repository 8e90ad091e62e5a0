{#- The NPS formulas, in one place. NPS = 100 × (promoters − detractors) / responses, in
    [−100, 100]. Null without responses. -#}
{% macro nps_from_counts(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then 100.0 * ({{ promoters }} - {{ detractors }}) / {{ responses }}
    end
{%- endmacro %}
