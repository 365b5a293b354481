-- Service-quality indicators (proportions and means), grain indicator x source x wave x area (governorate,
-- or IQ = national for a wave that reached every governorate) x disaggregation value (docs/architecture.md).
-- Estimates of suppressed cells are kept (flagged), for analysts; dashboards must not show a row with
-- is_suppressed = true. Distribution indicators are in fct_response_distribution.
select
    indicator_id,
    source_id,
    wave_id,
    governorate_pcode,
    disaggregation,
    disaggregation_value,
    estimate,
    std_error,
    ci_lower,
    ci_upper,
    ci_method,
    degrees_of_freedom::integer as degrees_of_freedom,
    n_unweighted::integer as n_unweighted,
    n_effective,
    design_effect,
    excluded_share,
    n_psu_domain::integer as n_psu,
    n_singleton_strata_domain::integer as n_singleton_strata,
    single_psu_rule,
    weight_ratio_max_median,
    has_extreme_weights,
    is_suppressed,
    suppression_reason,
    is_unreliable,
    is_synthetic
from {{ ref('int_indicator_cells') }}
where category = '-'
order by indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
