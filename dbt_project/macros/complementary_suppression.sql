{#-
  Complementary (secondary) suppression of estimation cells: a suppressed cell must not be derivable from
  published ones (docs/methodology.md, section 5). Used by int_indicator_cells only.

  complementary_suppression_step(relation, margin)
    relation  rows shaped like int_indicator_estimates plus question_id, with is_suppressed, suppression_reason
    margin    'question'   the cells computed from one question in one domain: every answer category of a
                           distribution and every indicator built on the same answers (water rated good, water
                           rated poor, the rating distribution). They are published together or not at all:
                           one suppressed cell suppresses them all (the shares of a distribution add up to 1;
                           a top-box share is the sum of two published categories).
              'breakdown'  the set is an area's `all` estimate (the total) and the groups of one of its
                           disaggregations (female / male of a governorate); the total is a weighted average
                           of the groups
              'national'   the set is the IQ estimate (the total, only where one exists) and the governorates,
                           for one disaggregation value; the national estimate is a weighted average of the
                           governorates
  For 'breakdown' and 'national': when exactly one cell of the set is suppressed, whether a group or the
  total, it could be worked out from the others, so the published group with the smallest unweighted n
  (ties: lowest value) is suppressed too. A set with two or more hidden cells has at least two unknowns for
  its one equation. Each step reads the relation once (window functions only), so rounds can be chained
  without the query growing. Returns the relation with updated is_suppressed and suppression_reason (the
  reason of a cell suppressed here names the margin).
-#}
{% macro complementary_suppression_step(relation, margin) -%}
{%- if margin == 'question' -%}
    {%- set part = 'question_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value' -%}
    {%- set reason = 'complementary suppression: another estimate from the same answers in this domain is suppressed (an answer category, or an indicator on the same question)' -%}
    {%- set secondary = 'not is_suppressed and bool_or(is_suppressed) over (partition by ' ~ part ~ ')' -%}
{%- elif margin in ('breakdown', 'national') -%}
    {%- if margin == 'breakdown' -%}
        {%- set part = 'indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation' -%}
        {%- set area = 'indicator_id, category, source_id, wave_id, governorate_pcode' -%}
        {%- set is_group = "disaggregation <> 'all'" -%}
        {%- set is_total = "disaggregation = 'all'" -%}
        {%- set group_order = 'disaggregation_value' -%}
        {%- set reason = 'complementary suppression: another cell of this breakdown (a group, or the total) is suppressed and could be derived from the rest' -%}
    {%- else -%}
        {%- set part = 'indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value' -%}
        {%- set area = part -%}
        {%- set is_group = "governorate_pcode <> 'IQ'" -%}
        {%- set is_total = "governorate_pcode = 'IQ'" -%}
        {%- set group_order = 'governorate_pcode' -%}
        {%- set reason = 'complementary suppression: another governorate, or the national estimate, is suppressed and could be derived from the rest' -%}
    {%- endif -%}
    {#- the total sits in this row's partition for 'national', in the area's 'all' row for 'breakdown' -#}
    {%- set has_total = 'count(*) filter (where ' ~ is_total ~ ') over (partition by ' ~ area ~ ') > 0' -%}
    {%- set total_hidden = 'coalesce(bool_or(is_suppressed) filter (where ' ~ is_total ~ ') over (partition by ' ~ area ~ '), false)' -%}
    {%- set groups_hidden = 'count(*) filter (where ' ~ is_group ~ ' and is_suppressed) over (partition by ' ~ part ~ ')' -%}
    {%- set rank = 'row_number() over (partition by ' ~ part ~ ', (' ~ is_group ~ ') and not is_suppressed order by n_unweighted, ' ~ group_order ~ ')' -%}
    {%- set secondary = '(' ~ is_group ~ ') and not is_suppressed and ' ~ has_total
        ~ ' and ' ~ groups_hidden ~ ' + case when ' ~ total_hidden ~ ' then 1 else 0 end = 1 and ' ~ rank ~ ' = 1' -%}
{%- else -%}
    {{ exceptions.raise_compiler_error("complementary_suppression_step: unknown margin " ~ margin) }}
{%- endif %}
select
    * exclude (_is_secondary) replace (
        is_suppressed or _is_secondary as is_suppressed,
        case when _is_secondary then '{{ reason }}' else suppression_reason end as suppression_reason
    )
from (
    select *, coalesce({{ secondary }}, false) as _is_secondary
    from {{ relation }}
)
{%- endmacro %}
