-- Collapsed strata (single_psu_rule = combine): every stratum a single-PSU stratum joins, including one
-- the mapping names in strata_combine, is a stratum of the same wave. Returns the strata that are not.
select u.source_id, u.wave_id, u.stratum, u.variance_stratum
from {{ ref('int_survey_design_units') }} as u
left join (
    select distinct source_id, wave_id, stratum from {{ ref('stg_survey__respondents') }}
) as r
    on r.source_id = u.source_id and r.wave_id = u.wave_id and r.stratum = u.variance_stratum
where r.stratum is null
