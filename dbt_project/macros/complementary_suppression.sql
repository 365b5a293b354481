{#-
  Complementary (secondary) suppression of estimation cells: a suppressed cell must not be derivable from
  published ones (docs/methodology.md, section 5). Used by int_indicator_cells only.

  complementary_suppression_step(relation, margin, kind)
    relation  rows shaped like int_indicator_estimates with is_suppressed, suppression_reason
    margin    'breakdown'  groups = disaggregation values of one area (e.g. female / male of a governorate);
                           the total is the area's `all` row
              'national'   groups = governorates (areas other than IQ) of one disaggregation value; the total
                           is the IQ row (only where an IQ row exists)
              'categories' groups = answer categories of a distribution indicator in one domain (they add up
                           to 1, so any hidden category follows from the others)
  For 'breakdown' and 'national': when exactly one group of a margin is suppressed, the published group
  with the smallest unweighted n (ties: lowest value) is suppressed too, so that at least two groups are
  hidden and neither can be worked out from the total and the others. For 'categories': one suppressed
  category suppresses every category of the domain. Returns the relation with updated is_suppressed and
  suppression_reason (the reason of a cell suppressed here names the margin).
-#}
{% macro complementary_suppression_step(relation, margin) -%}
{%- set keys = ['indicator_id', 'category', 'source_id', 'wave_id', 'governorate_pcode', 'disaggregation', 'disaggregation_value'] -%}
{%- if margin == 'breakdown' -%}
    {%- set part = 'indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation' -%}
    {%- set is_group = "disaggregation <> 'all'" -%}
    {%- set needs_total = 'true' -%}
    {%- set group_order = 'disaggregation_value' -%}
    {%- set reason = 'complementary suppression: another group of this breakdown is suppressed and could be derived from the total' -%}
{%- elif margin == 'national' -%}
    {%- set part = 'indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value' -%}
    {%- set is_group = "governorate_pcode <> 'IQ'" -%}
    {%- set needs_total = "count(*) filter (where governorate_pcode = 'IQ') over (partition by " ~ part ~ ") > 0" -%}
    {%- set group_order = 'governorate_pcode' -%}
    {%- set reason = 'complementary suppression: another governorate is suppressed and could be derived from the national estimate' -%}
{%- elif margin == 'categories' -%}
    {%- set part = 'indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value' -%}
    {%- set is_group = "category <> '-'" -%}
    {%- set reason = 'complementary suppression: another answer category of this distribution is suppressed' -%}
{%- else -%}
    {{ exceptions.raise_compiler_error("complementary_suppression_step: unknown margin " ~ margin) }}
{%- endif %}
select
    r.* replace (
        r.is_suppressed or coalesce(x.is_secondary, false) as is_suppressed,
        case when not r.is_suppressed and coalesce(x.is_secondary, false) then '{{ reason }}'
             else r.suppression_reason end as suppression_reason
    )
from {{ relation }} as r
left join (
    select {{ keys | join(', ') }}, true as is_secondary
    from (
        select
            *,
            {%- if margin == 'categories' %}
            bool_or(is_suppressed) over (partition by {{ part }}) as any_suppressed
            {%- else %}
            {{ needs_total }} as has_total,
            count(*) filter (where {{ is_group }} and is_suppressed) over (partition by {{ part }}) as n_suppressed,
            count(*) filter (where {{ is_group }}) over (partition by {{ part }}) as n_groups,
            row_number() over (
                partition by {{ part }}, ({{ is_group }}) and not is_suppressed
                order by n_unweighted, {{ group_order }}
            ) as published_rank
            {%- endif %}
        from {{ relation }}
    )
    where ({{ is_group }}) and not is_suppressed
    {%- if margin == 'categories' %}
      and any_suppressed
    {%- else %}
      and has_total and n_suppressed = 1 and n_groups >= 2 and published_rank = 1
    {%- endif %}
) as x using ({{ keys | join(', ') }})
{%- endmacro %}
