{#-
  Status of an actual against its target (docs/results-framework.md, "The status rule").
  - No status (NULL) when the cell is suppressed, has no actual or no target.
  - With sampling error (a survey estimate, a mean knowledge gain): `target_met` only when the whole 95 % CI
    is on the good side of the target (the target itself counts as good), `not_met` when the whole CI is on
    the bad side, `too_close_to_call` otherwise: the data cannot tell the two apart.
  - Without sampling error (a count, a budget figure): the actual is compared with the target directly.
-#}
{% macro progress_status(actual, ci_lower, ci_upper, target, direction, has_sampling_error, is_suppressed) -%}
case
    when {{ is_suppressed }} or {{ actual }} is null or {{ target }} is null then null
    when {{ has_sampling_error }} and ({{ ci_lower }} is null or {{ ci_upper }} is null) then null
    when {{ has_sampling_error }} and {{ direction }} = 'higher_is_better' then
        case when {{ ci_lower }} >= {{ target }} then 'target_met'
             when {{ ci_upper }} < {{ target }} then 'not_met'
             else 'too_close_to_call' end
    when {{ has_sampling_error }} and {{ direction }} = 'lower_is_better' then
        case when {{ ci_upper }} <= {{ target }} then 'target_met'
             when {{ ci_lower }} > {{ target }} then 'not_met'
             else 'too_close_to_call' end
    when {{ direction }} = 'higher_is_better' then
        case when {{ actual }} >= {{ target }} then 'target_met' else 'not_met' end
    when {{ direction }} = 'lower_is_better' then
        case when {{ actual }} <= {{ target }} then 'target_met' else 'not_met' end
end
{%- endmacro %}
