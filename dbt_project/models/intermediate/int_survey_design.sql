-- One row per survey source x wave: size of the design and its degrees of freedom (#PSU - #strata).
with

strata as (
    select * from {{ ref('int_survey_strata') }}
),

respondents as (
    select source_id, wave_id, bool_or(is_synthetic) as is_synthetic
    from {{ ref('stg_survey__respondents') }}
    group by source_id, wave_id
)

select
    s.source_id,
    s.wave_id,
    sum(s.n_respondents)::bigint as n_respondents,
    count(*)::bigint as n_strata,
    sum(s.n_psu)::bigint as n_psu,
    (sum(s.n_psu) - count(*))::bigint as degrees_of_freedom,
    count(*) filter (where s.n_psu = 1)::bigint as n_singleton_strata,
    min(s.n_psu)::bigint as min_psu_per_stratum,
    max(s.n_psu)::bigint as max_psu_per_stratum,
    sum(s.sum_weight) as sum_weight,
    any_value(r.is_synthetic) as is_synthetic
from strata as s
left join respondents as r
    on r.source_id = s.source_id
    and r.wave_id = s.wave_id
group by s.source_id, s.wave_id
