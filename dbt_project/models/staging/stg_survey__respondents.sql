-- One row per loaded respondent; design variables typed. Weights are checked > 0 by ingestion
-- (a bad weight stops the run) and again by this model's tests.
select
    source_id::varchar          as source_id,
    wave_id::varchar            as wave_id,
    respondent_id::varchar      as respondent_id,
    governorate_pcode::varchar  as governorate_pcode,
    district_pcode::varchar     as district_pcode,
    stratum::varchar            as stratum,
    psu::varchar                as psu,
    weight::double              as weight,
    lower(hoh_sex)::varchar     as hoh_sex,
    lower(urban_rural)::varchar as urban_rural,
    interview_date::date        as interview_date,
    coalesce(is_synthetic, false)::boolean as is_synthetic,
    file_name::varchar          as file_name,
    file_sha256::varchar        as file_sha256,
    row_number::integer         as row_number
from {{ source('raw', 'survey_respondents') }}
