{#-
  Change between consecutive waves: part of the survey estimation engine (see survey_estimates.sql); the
  only place a change, its standard error and its interval are computed.

  survey_change(estimates, waves, t_quantiles=none)
    estimates    relation shaped like marts.fct_service_indicators (one row per indicator x source x wave x
                 governorate x disaggregation value with estimate, std_error, degrees_of_freedom, is_suppressed)
    waves        relation with source_id, wave_id, fieldwork_start (marts.dim_wave)
  Output: marts.fct_indicator_change (docs/architecture.md; formulas in docs/methodology.md section 5b).
Change of every indicator between consecutive waves of a source, per governorate and disaggregation
value: difference (later minus earlier wave), its standard error for independent samples
SE = sqrt(SE_1^2 + SE_2^2), a 95 % t interval on min(df_1, df_2) degrees of freedom (a conservative
choice; Korn & Graubard 1999, 5.2) and a significance flag (the interval excludes 0).
When either wave's estimate is a proportion of exactly 0 or 1 (published with SE = 0 and its exact
interval), that SE would make the other wave's uncertainty the only one: the interval of the difference is
then recovered from the two waves' own 95 % intervals instead (MOVER, Newcombe 1998 method 10, Zou &
Donner 2008): L = d - sqrt((p2 - l2)^2 + (u1 - p1)^2), U = d + sqrt((u2 - p2)^2 + (p1 - l1)^2), with no
standard error (ci_method = 'mover').
Consecutive = next wave of the same source by fieldwork start, then wave id read naturally ('9' before
'10'; macros/natural_sort_key.sql), as dim_wave.wave_order.
A pair with a suppressed cell in either wave carries no number at all: the difference would reveal the
suppressed estimate from the published one.
-#}
{% macro survey_change(estimates, waves, t_quantiles=none) -%}
{%- set tq = t_quantiles if t_quantiles is not none else ref('t_quantiles') -%}
with

_estimates as (
    select * from {{ estimates }}
),

_waves as (
    select
        source_id,
        wave_id,
        row_number() over (
            partition by source_id order by fieldwork_start nulls last, {{ natural_sort_key('wave_id') }}
        ) as wave_order
    from {{ waves }}
),

ordered as (
    select e.*, w.wave_order
    from _estimates as e
    inner join _waves as w using (source_id, wave_id)
),

pairs as (
    select
        cur.indicator_id,
        cur.source_id,
        prev.wave_id as wave_from,
        cur.wave_id as wave_to,
        cur.governorate_pcode,
        cur.disaggregation,
        cur.disaggregation_value,
        prev.estimate as estimate_from,
        cur.estimate as estimate_to,
        prev.std_error as se_from,
        cur.std_error as se_to,
        prev.ci_lower as lo_from,
        prev.ci_upper as hi_from,
        cur.ci_lower as lo_to,
        cur.ci_upper as hi_to,
        least(prev.degrees_of_freedom, cur.degrees_of_freedom) as df,
        prev.is_suppressed as suppressed_from,
        cur.is_suppressed as suppressed_to,
        cur.is_synthetic or prev.is_synthetic as is_synthetic
    from ordered as cur
    inner join ordered as prev
        on prev.indicator_id = cur.indicator_id
        and prev.source_id = cur.source_id
        and prev.governorate_pcode = cur.governorate_pcode
        and prev.disaggregation = cur.disaggregation
        and prev.disaggregation_value = cur.disaggregation_value
        and prev.wave_order = cur.wave_order - 1
),

comparable as (
    select
        p.*,
        case
            when p.suppressed_from and p.suppressed_to then 'suppressed in both waves'
            when p.suppressed_from then 'suppressed in ' || p.wave_from
            when p.suppressed_to then 'suppressed in ' || p.wave_to
            when p.se_from is null or p.se_to is null or p.df is null or p.df <= 0 then 'no standard error'
            when (p.se_from = 0 or p.se_to = 0)
                 and (p.lo_from is null or p.hi_from is null or p.lo_to is null or p.hi_to is null)
                then 'no confidence interval'
        end as not_comparable_reason,
        p.se_from = 0 or p.se_to = 0 as is_boundary
    from pairs as p
),

with_t as (
    select
        c.*,
        case when c.not_comparable_reason is null then {{ t975_from('c.df', 'tq') }} end as t_quantile,
        case when c.not_comparable_reason is null then c.estimate_to - c.estimate_from end as diff,
        case when c.not_comparable_reason is null and not c.is_boundary
            then sqrt(c.se_from * c.se_from + c.se_to * c.se_to) end as diff_se
    from comparable as c
    left join {{ tq }} as tq on tq.df = c.df
),

with_ci as (
    select
        *,
        case
            when not_comparable_reason is not null then null
            when is_boundary then diff - sqrt((estimate_to - lo_to) ^ 2 + (hi_from - estimate_from) ^ 2)
            else diff - t_quantile * diff_se
        end as diff_lower,
        case
            when not_comparable_reason is not null then null
            when is_boundary then diff + sqrt((hi_to - estimate_to) ^ 2 + (estimate_from - lo_from) ^ 2)
            else diff + t_quantile * diff_se
        end as diff_upper
    from with_t
)

select
    indicator_id,
    source_id,
    wave_from,
    wave_to,
    governorate_pcode,
    disaggregation,
    disaggregation_value,
    case when not_comparable_reason is null then estimate_from end as estimate_from,
    case when not_comparable_reason is null then estimate_to end as estimate_to,
    diff as difference,
    diff_se as std_error,
    case when not_comparable_reason is null then df end::integer as degrees_of_freedom,
    diff_lower as ci_lower,
    diff_upper as ci_upper,
    case when not_comparable_reason is null then (case when is_boundary then 'mover' else 't' end) end as ci_method,
    case when not_comparable_reason is null then diff_lower > 0 or diff_upper < 0 end as is_significant,
    not_comparable_reason,
    is_synthetic
from with_ci
order by indicator_id, source_id, governorate_pcode, disaggregation, disaggregation_value, wave_to
{%- endmacro %}
