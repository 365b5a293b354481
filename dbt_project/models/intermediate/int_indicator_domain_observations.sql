-- Observations expanded to estimation domains: governorate x disaggregation value.
-- Every observation is in the (`all`, `all`) domain; it is also in (`hoh_sex`, <its hoh_sex>) when the
-- indicator lists `hoh_sex` among its disaggregations and hoh_sex is known (likewise `urban_rural`).
-- Rows outside a domain are simply absent: the engine gives them a zero score and keeps every PSU of the
-- wave through int_survey_strata.
{%- set disaggregation_columns = ['hoh_sex', 'urban_rural'] %}
with

observations as (
    select * from {{ ref('int_indicator_observations') }}
),

indicators as (
    select indicator_id, disaggregations from {{ ref('stg_registry__indicators') }}
),

domains as (
    select
        o.*,
        'all' as disaggregation,
        'all' as disaggregation_value
    from observations as o
    {%- for col in disaggregation_columns %}

    union all

    select
        o.*,
        '{{ col }}' as disaggregation,
        o.{{ col }} as disaggregation_value
    from observations as o
    inner join indicators as i on i.indicator_id = o.indicator_id
    where list_contains(i.disaggregations, '{{ col }}')
      and o.{{ col }} is not null
    {%- endfor %}
)

select
    indicator_id,
    indicator_type as estimate_type,
    ci_method,
    source_id,
    wave_id,
    governorate_pcode,
    disaggregation,
    disaggregation_value,
    respondent_id,
    stratum,
    psu,
    weight,
    y,
    is_answered,
    is_nonresponse,
    is_synthetic
from domains
