-- Indicators with their reference-sheet fields (data_contracts/indicators.yaml) and question wording.
with

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

questions as (
    select * from {{ ref('stg_registry__questions') }}
),

-- the suppression rule of the snapshot, not a copy of the registry's text that could disagree with the
-- thresholds this build used
rules as (
    select rule_text from {{ ref('dim_estimation_rules') }}
)

select
    i.indicator_id,
    i.version,
    i.sector,
    i.sector_name,
    i.sector_name_ar,
    i.sector_order,
    i.indicator_order,
    i.name_en,
    i.name_ar,
    i.definition,
    i.numerator,
    i.denominator,
    i.unit,
    i.indicator_type,
    i.question_id,
    q.label_en as question_label_en,
    q.label_ar as question_label_ar,
    i.success_codes,
    i.source_questions,
    i.estimation_method,
    i.ci_method,
    r.rule_text as suppression_rule,
    i.universe,
    i.direction,
    i.disaggregations
from indicators as i
left join questions as q on q.question_id = i.question_id
cross join rules as r
order by i.indicator_id
