-- Every indicator (x answer category) x survey wave x area x disaggregation value, estimated by THE survey
-- engine (macros/survey_estimates.sql). No indicator has estimation code of its own. A table: the
-- Korn-Graubard interval calls a Python function (pipelines/dbt_functions.py) that only dbt's connection has.
{{ config(materialized='table') }}
{{ survey_estimates(
    observations=ref('int_indicator_domain_observations'),
    strata=ref('int_survey_strata'),
    design_keys=['source_id', 'wave_id'],
    domain_keys=['indicator_id', 'category', 'governorate_pcode', 'disaggregation', 'disaggregation_value'],
    t_quantiles=ref('t_quantiles'),
) }}
