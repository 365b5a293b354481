-- Service-quality indicators, grain indicator x source x wave x governorate x disaggregation value
-- (docs/architecture.md). Estimates of suppressed cells are kept (flagged), for analysts; dashboards
-- must not show a row with is_suppressed = true.
--
-- Complementary suppression: when one group of a breakdown (e.g. female-headed households) is suppressed,
-- every other group of that breakdown in the same governorate and wave is suppressed too. Otherwise the
-- hidden value could be worked out from the published total and the other group(s):
-- p_female = (p_all * n_all - p_male * n_male) / n_female.
with

estimates as (
    select * from {{ ref('int_indicator_estimates') }}
),

waves as (
    select * from {{ ref('int_survey_design') }}
),

sources as (
    select * from {{ ref('stg_survey__sources') }}
),

breakdowns as (
    select
        indicator_id, source_id, wave_id, governorate_pcode, disaggregation,
        bool_or(is_suppressed) as any_group_suppressed
    from estimates
    where disaggregation <> 'all'
    group by indicator_id, source_id, wave_id, governorate_pcode, disaggregation
)

select
    e.indicator_id,
    e.source_id,
    e.wave_id,
    e.governorate_pcode,
    e.disaggregation,
    e.disaggregation_value,
    e.estimate,
    e.std_error,
    e.ci_lower,
    e.ci_upper,
    e.ci_method,
    e.degrees_of_freedom::integer as degrees_of_freedom,
    e.n_unweighted::integer as n_unweighted,
    e.n_effective,
    e.design_effect,
    e.excluded_share,
    e.is_suppressed or coalesce(b.any_group_suppressed, false) as is_suppressed,
    case
        when e.is_suppressed then e.suppression_reason
        when b.any_group_suppressed
            then 'complementary suppression: another group of this breakdown is suppressed and could be derived from the total'
    end as suppression_reason,
    e.is_unreliable,
    coalesce(s.is_synthetic, false) or coalesce(w.is_synthetic, false) as is_synthetic
from estimates as e
left join waves as w
    on w.source_id = e.source_id
    and w.wave_id = e.wave_id
left join sources as s
    on s.source_id = e.source_id
    and s.wave_id = e.wave_id
left join breakdowns as b
    on b.indicator_id = e.indicator_id
    and b.source_id = e.source_id
    and b.wave_id = e.wave_id
    and b.governorate_pcode = e.governorate_pcode
    and b.disaggregation = e.disaggregation
order by e.indicator_id, e.source_id, e.wave_id, e.governorate_pcode, e.disaggregation, e.disaggregation_value
