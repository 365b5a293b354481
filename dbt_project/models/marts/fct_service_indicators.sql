-- Service-quality indicators, grain indicator x source x wave x governorate x disaggregation value
-- (docs/architecture.md). Estimates of suppressed cells are kept (flagged), for analysts; dashboards
-- must not show a row with is_suppressed = true.
with

estimates as (
    select * from {{ ref('int_indicator_estimates') }}
),

waves as (
    select * from {{ ref('int_survey_design') }}
),

sources as (
    select * from {{ ref('stg_survey__sources') }}
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
    e.is_suppressed,
    e.suppression_reason,
    e.is_unreliable,
    coalesce(s.is_synthetic, false) or coalesce(w.is_synthetic, false) as is_synthetic
from estimates as e
left join waves as w
    on w.source_id = e.source_id
    and w.wave_id = e.wave_id
left join sources as s
    on s.source_id = e.source_id
    and s.wave_id = e.wave_id
order by e.indicator_id, e.source_id, e.wave_id, e.governorate_pcode, e.disaggregation, e.disaggregation_value
