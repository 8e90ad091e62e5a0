{#- The 95 % margin of error of an NPS, in NPS points: 1.96 × 100 × sqrt(v / n) with
    v = p + d − (p − d)², p and d the promoter and detractor shares (the variance of one
    response scored +1 / 0 / −1) and n the responses; null without responses. -#}
{% macro nps_margin_of_error_95(promoters, detractors, responses) -%}
    case
        when {{ responses }} > 0
            then 196.0 * sqrt(
                (
                    cast({{ promoters }} + {{ detractors }} as {{ type_double() }}) / {{ responses }}
                    - (cast({{ promoters }} - {{ detractors }} as {{ type_double() }}) / {{ responses }})
                    * (cast({{ promoters }} - {{ detractors }} as {{ type_double() }}) / {{ responses }})
                ) / {{ responses }}
            )
    end
{%- endmacro %}
