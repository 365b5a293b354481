-- The engine's estimates (int_indicator_estimates) with complementary suppression applied
-- (macros/complementary_suppression.sql: breakdown groups within an area, governorates within the national
-- estimate, answer categories of a distribution), the design facts every estimate states (single-PSU rule,
-- extreme weights) and the synthetic flag. Two rounds, because a cell hidden for one margin can leave
-- another margin with a single hidden group; tests/assert_no_margin_has_one_suppressed_group.sql checks
-- the result. Grain: int_indicator_estimates.
{%- set extreme = var('extreme_weight_ratio', 10) %}
with

estimates as (
    select
        e.*,
        e.suppression_reason as primary_suppression_reason
    from {{ ref('int_indicator_estimates') }} as e
),

round_1_categories as ({{ complementary_suppression_step('estimates', 'categories') }}),
round_1_breakdown as ({{ complementary_suppression_step('round_1_categories', 'breakdown') }}),
round_1_national as ({{ complementary_suppression_step('round_1_breakdown', 'national') }}),
round_2_categories as ({{ complementary_suppression_step('round_1_national', 'categories') }}),
round_2_breakdown as ({{ complementary_suppression_step('round_2_categories', 'breakdown') }}),
round_2_national as ({{ complementary_suppression_step('round_2_breakdown', 'national') }}),

waves as (
    select * from {{ ref('int_survey_design') }}
),

sources as (
    select * from {{ ref('stg_survey__sources') }}
)

select
    c.*,
    w.single_psu_rule,
    c.weight_ratio_max_median > {{ extreme }} as has_extreme_weights,
    coalesce(s.is_synthetic, false) or coalesce(w.is_synthetic, false) as is_synthetic
from round_2_national as c
left join waves as w
    on w.source_id = c.source_id
    and w.wave_id = c.wave_id
left join sources as s
    on s.source_id = c.source_id
    and s.wave_id = c.wave_id
