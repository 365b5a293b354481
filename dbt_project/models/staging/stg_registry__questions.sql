-- Canonical questions (data_contracts/question_bank.yaml).
select
    question_id::varchar          as question_id,
    sector::varchar               as sector,
    label_en::varchar             as label_en,
    label_ar::varchar             as label_ar,
    answer_type::varchar          as answer_type,
    coalesce(choice_codes, []::varchar[])::varchar[]      as choice_codes,
    coalesce(nonresponse_codes, []::varchar[])::varchar[] as nonresponse_codes,
    min_value::double             as min_value,
    max_value::double             as max_value,
    unit::varchar                 as unit,
    -- the codes a top-box / bottom-box indicator counts (rating questions); a source on another scale
    -- declares its codes onto these boxes and its answers are stored as top_box / middle_box / bottom_box
    coalesce(top_box_codes, []::varchar[])::varchar[]    as top_box_codes,
    coalesce(bottom_box_codes, []::varchar[])::varchar[] as bottom_box_codes
from {{ source('raw', 'question_bank') }}
