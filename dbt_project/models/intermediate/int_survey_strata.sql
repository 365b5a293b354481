-- Design strata of every survey wave: PSUs per stratum over ALL respondents of the wave (n_h of the
-- variance formula). PSUs are nested in strata: a PSU is the pair (stratum, psu).
select
    source_id,
    wave_id,
    stratum,
    count(distinct psu) as n_psu,
    count(*) as n_respondents,
    sum(weight) as sum_weight
from {{ ref('stg_survey__respondents') }}
group by source_id, wave_id, stratum
