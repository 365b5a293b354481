-- Disaggregation attributes of respondents, long: one row per respondent x attribute with a known value.
-- hoh_sex, urban_rural and district (district_pcode) come from the respondent table; any other attribute
-- a mapping declares under `disaggregations:` (e.g. displacement_status) from raw.survey_respondent_attributes.
-- An indicator is broken down by every attribute its registry entry lists under `disaggregations`.
with

respondents as (
    select * from {{ ref('stg_survey__respondents') }}
),

declared as (
    select
        source_id::varchar     as source_id,
        wave_id::varchar       as wave_id,
        respondent_id::varchar as respondent_id,
        attribute::varchar     as attribute,
        value::varchar         as value
    from {{ source('raw', 'survey_respondent_attributes') }}
    where value is not null
)

select source_id, wave_id, respondent_id, 'hoh_sex' as attribute, hoh_sex as value
from respondents where hoh_sex is not null
union all
select source_id, wave_id, respondent_id, 'urban_rural', urban_rural
from respondents where urban_rural is not null
union all
select source_id, wave_id, respondent_id, 'district', district_pcode
from respondents where district_pcode is not null
union all
select source_id, wave_id, respondent_id, attribute, value
from declared
