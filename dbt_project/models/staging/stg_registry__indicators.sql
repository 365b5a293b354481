-- Indicator registry (data_contracts/indicators.yaml): one row per indicator, reference-sheet fields.
select
    indicator_id::varchar        as indicator_id,
    version::varchar             as version,
    sector::varchar              as sector,
    -- display name and position of the sector (question_bank.yaml `sectors:`); the id when it has none
    coalesce(sector_name, sector)::varchar as sector_name,
    coalesce(sector_name_ar, sector_name, sector)::varchar as sector_name_ar,
    sector_order::integer        as sector_order,
    indicator_order::integer     as indicator_order,
    name_en::varchar             as name_en,
    name_ar::varchar             as name_ar,
    definition::varchar          as definition,
    numerator::varchar           as numerator,
    denominator::varchar         as denominator,
    unit::varchar                as unit,
    indicator_type::varchar      as indicator_type,
    question_id::varchar         as question_id,
    coalesce(success_codes, []::varchar[])::varchar[]          as success_codes,
    coalesce(disaggregations, ['all']::varchar[])::varchar[]   as disaggregations,
    coalesce(ci_method, case when indicator_type = 'mean' then 't' else 'logit' end)::varchar as ci_method,
    direction::varchar           as direction,
    source_questions::varchar    as source_questions,
    estimation_method::varchar   as estimation_method,
    suppression_rule::varchar    as suppression_rule,
    universe::varchar            as universe
from {{ source('raw', 'indicator_registry') }}
