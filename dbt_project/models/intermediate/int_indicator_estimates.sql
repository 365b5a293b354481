-- Every indicator x survey wave x governorate x disaggregation value, estimated by THE survey engine
-- (macros/survey_estimates.sql). No indicator has estimation code of its own.
{{ survey_estimates(
    observations=ref('int_indicator_domain_observations'),
    strata=ref('int_survey_strata'),
    design_keys=['source_id', 'wave_id'],
    domain_keys=['indicator_id', 'governorate_pcode', 'disaggregation', 'disaggregation_value'],
    t_quantiles=ref('t_quantiles'),
) }}
