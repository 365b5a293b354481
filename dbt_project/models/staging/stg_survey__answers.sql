-- Long answers: one row per respondent x canonical question mapped by the source.
select
    source_id::varchar      as source_id,
    wave_id::varchar        as wave_id,
    respondent_id::varchar  as respondent_id,
    question_id::varchar    as question_id,
    answer_code::varchar    as answer_code,
    answer_numeric::double  as answer_numeric,
    answer_source::varchar  as answer_source,   -- the value as delivered, before the recode
    source_scale::varchar   as source_scale,    -- 'canonical', or the declared scale (top/bottom box)
    file_sha256::varchar    as file_sha256,
    row_number::integer     as row_number
from {{ source('raw', 'survey_answers') }}
