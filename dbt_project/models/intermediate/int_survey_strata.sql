-- Variance strata of every survey wave (after the single-PSU rule, int_survey_design_units): PSUs per
-- stratum over ALL respondents of the wave (n_h of the variance formula). A PSU is the pair
-- (variance_stratum, variance_psu).
select
    source_id,
    wave_id,
    variance_stratum as stratum,
    count(distinct variance_psu) as n_psu,
    count(*) as n_respondents,
    sum(weight) as sum_weight
from {{ ref('int_survey_design_units') }}
group by source_id, wave_id, variance_stratum
