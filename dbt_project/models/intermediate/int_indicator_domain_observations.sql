-- Observations expanded to estimation domains: area (governorate, or IQ = the whole country) x
-- disaggregation value.
-- Every observation is in its governorate's (`all`, `all`) domain, and in (<attribute>, <its value>) for every
-- attribute the indicator lists among its disaggregations (hoh_sex, urban_rural, district, displacement_status
-- or any attribute a mapping declares: stg_survey__respondent_attributes) whose value is known.
-- A wave that reached all 18 COD-AB governorates (int_survey_design.covers_all_governorates) also gets the
-- same domains for the whole country, governorate_pcode = 'IQ' (COD-AB ADM0 p-code).
-- Rows outside a domain are simply absent: the engine gives them a zero score and keeps every PSU of the
-- wave through int_survey_strata.
with

observations as (
    select * from {{ ref('int_indicator_observations') }}
),

indicators as (
    select indicator_id, disaggregations from {{ ref('stg_registry__indicators') }}
),

attributes as (
    select * from {{ ref('stg_survey__respondent_attributes') }}
),

national_waves as (
    select source_id, wave_id from {{ ref('int_survey_design') }} where covers_all_governorates
),

areas as (
    select o.*, o.governorate_pcode as area_pcode
    from observations as o
    union all
    select o.*, 'IQ' as area_pcode
    from observations as o
    inner join national_waves as n using (source_id, wave_id)
),

domains as (
    select
        a.*,
        'all' as disaggregation,
        'all' as disaggregation_value
    from areas as a

    union all

    select
        a.*,
        t.attribute as disaggregation,
        t.value as disaggregation_value
    from areas as a
    inner join indicators as i on i.indicator_id = a.indicator_id
    inner join attributes as t
        on t.source_id = a.source_id
        and t.wave_id = a.wave_id
        and t.respondent_id = a.respondent_id
        and list_contains(i.disaggregations, t.attribute)
)

select
    indicator_id,
    case when indicator_type = 'mean' then 'mean' else 'proportion' end as estimate_type,
    ci_method,
    category,
    source_id,
    wave_id,
    area_pcode as governorate_pcode,
    disaggregation,
    disaggregation_value,
    respondent_id,
    stratum,
    psu,
    weight,
    y,
    value_min,
    value_max,
    is_answered,
    is_nonresponse,
    is_synthetic
from domains
