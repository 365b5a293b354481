-- Every indicator (x answer category) x survey wave x area x disaggregation value, estimated by THE survey
-- engine (macros/survey_estimates.sql). No indicator has estimation code of its own. A table: the
-- Korn-Graubard interval calls a Python function (pipelines/dbt_functions.py) that only dbt's connection has.
-- Incremental by wave: the estimates of one wave depend on that wave's respondents alone, so a run computes
-- the waves it (re)loaded (macros/waves_to_build.sql) and keeps the others' rows as they were; waves no
-- longer in raw leave with the post-hook. A change to the project or the contracts makes the pipeline
-- build with --full-refresh (pipelines/assets/dbt.py).
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['source_id', 'wave_id'],
    post_hook="delete from {{ this }} where (source_id, wave_id) not in (select source_id, wave_id from {{ ref('stg_survey__sources') }})",
) }}
-- depends_on: {{ source('raw', 'survey_wave_loads') }}
{%- set observations -%}
(
    select * from {{ ref('int_indicator_domain_observations') }}
    {% if is_incremental() %}where {{ waves_built_now() }}{% endif %}
) as domain_observations
{%- endset %}
{{ survey_estimates(
    observations=observations,
    strata=ref('int_survey_strata'),
    design_keys=['source_id', 'wave_id'],
    domain_keys=['indicator_id', 'category', 'governorate_pcode', 'disaggregation', 'disaggregation_value'],
    t_quantiles=ref('t_quantiles'),
) }}
