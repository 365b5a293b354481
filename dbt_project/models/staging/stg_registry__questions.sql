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
    unit::varchar                 as unit
from {{ source('raw', 'question_bank') }}
