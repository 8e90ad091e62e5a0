{#- The NPS formulas, in one place. NPS = 100 × (promoters − detractors) / responses, in
    [−100, 100]. Null without responses. -#}
{% macro nps_from_counts(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then cast(100 * ({{ promoters }} - {{ detractors }}) as {{ type_double() }}) / {{ responses }}
    end
{%- endmacro %}
