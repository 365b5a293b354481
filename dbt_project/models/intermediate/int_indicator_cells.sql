-- The engine's estimates (int_indicator_estimates) with complementary suppression applied
-- (macros/complementary_suppression.sql: estimates from the same answers in one domain, breakdown groups and
-- their area's total, governorates and the national estimate), the design facts every estimate states
-- (single-PSU rule, extreme weights) and the synthetic flag. The three margins are applied in rounds,
-- because a cell hidden for one margin can leave another margin with a single hidden cell; suppression
-- only grows, so the rounds reach a fixed point, and tests/assert_no_margin_has_one_suppressed_group.sql
-- fails the build should the rounds below ever not be enough. Grain: int_indicator_estimates.
-- Each round is a MATERIALIZED CTE: the result is the same, but DuckDB then plans each round on its own.
-- Inlined, the 18 nested window steps cost its filter-pushdown optimizer about a second per query that reads
-- this view (four per build), whatever the data size.
{%- set extreme = var('extreme_weight_ratio', 10) %}
{%- set rounds = 6 %}
with

round_0 as (
    select
        e.*,
        i.question_id,
        e.suppression_reason as primary_suppression_reason
    from {{ ref('int_indicator_estimates') }} as e
    inner join {{ ref('stg_registry__indicators') }} as i using (indicator_id)
),
{% for r in range(1, rounds + 1) %}
{%- set previous = 'round_0' if r == 1 else 'round_' ~ (r - 1) ~ '_national' %}
round_{{ r }}_question as materialized ({{ complementary_suppression_step(previous, 'question') }}),
round_{{ r }}_breakdown as materialized ({{ complementary_suppression_step('round_' ~ r ~ '_question', 'breakdown') }}),
round_{{ r }}_national as materialized ({{ complementary_suppression_step('round_' ~ r ~ '_breakdown', 'national') }}),
{% endfor %}

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
from round_{{ rounds }}_national as c
left join waves as w
    on w.source_id = c.source_id
    and w.wave_id = c.wave_id
left join sources as s
    on s.source_id = c.source_id
    and s.wave_id = c.wave_id
