-- Full answer distribution of select_one questions (indicators of type `distribution`): one row per
-- indicator x source x wave x area x disaggregation value x answer code, each share estimated by the survey
-- engine as a proportion over the substantive answers (don't know / refused excluded, excluded_share
-- reported). Shares of one domain add up to 1. A distribution is suppressed whole or not at all.
with

cells as (
    select * from {{ ref('int_indicator_cells') }}
    where category <> '-'
),

indicators as (
    select indicator_id, question_id from {{ ref('stg_registry__indicators') }}
),

questions as (
    select question_id, choice_codes from {{ ref('stg_registry__questions') }}
)

select
    c.indicator_id,
    c.source_id,
    c.wave_id,
    c.governorate_pcode,
    c.disaggregation,
    c.disaggregation_value,
    c.category as choice_code,
    list_position(q.choice_codes, c.category)::integer as choice_order,
    c.estimate,
    c.std_error,
    c.ci_lower,
    c.ci_upper,
    c.ci_method,
    c.degrees_of_freedom::integer as degrees_of_freedom,
    c.n_unweighted::integer as n_unweighted,
    c.n_effective,
    c.design_effect,
    c.excluded_share,
    c.single_psu_rule,
    c.is_suppressed,
    c.suppression_reason,
    c.is_unreliable,
    c.is_synthetic
from cells as c
inner join indicators as i on i.indicator_id = c.indicator_id
inner join questions as q on q.question_id = i.question_id
order by c.indicator_id, c.source_id, c.wave_id, c.governorate_pcode, c.disaggregation, c.disaggregation_value,
    choice_order
