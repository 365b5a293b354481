-- One row per survey source x wave: size of the design as the variance step sees it (after the single-PSU
-- rule), its degrees of freedom (#PSU - #strata), the strata as delivered, the weights and whether the wave
-- covers the whole country (national estimates).
{%- set extreme = var('extreme_weight_ratio', 10) %}
with

strata as (
    select * from {{ ref('int_survey_strata') }}
),

units as (
    select * from {{ ref('int_survey_design_units') }}
),

sources as (
    select * from {{ ref('stg_survey__sources') }}
),

delivered as (
    select
        source_id,
        wave_id,
        count(distinct stratum) as n_strata_delivered,
        count(distinct stratum) filter (where is_in_single_psu_stratum) as n_singleton_strata_delivered,
        bool_or(is_synthetic) as is_synthetic,
        max(weight) / median(weight) as weight_ratio_max_median,
        min(weight) as weight_min,
        median(weight) as weight_median,
        max(weight) as weight_max,
        sum(weight) * sum(weight) / sum(weight * weight) as n_effective,
        -- national estimates only for a wave that reached all 18 COD-AB 2019 governorates (Halabja, IQG19,
        -- is part of IQG06 in COD-AB and may be filed under it)
        count(distinct governorate_pcode) filter (where governorate_pcode <> 'IQG19') = 18 as covers_all_governorates
    from units
    group by source_id, wave_id
),

design as (
    select
        source_id,
        wave_id,
        sum(n_respondents)::bigint as n_respondents,
        count(*)::bigint as n_strata,
        sum(n_psu)::bigint as n_psu,
        (sum(n_psu) - count(*))::bigint as degrees_of_freedom,
        count(*) filter (where n_psu = 1)::bigint as n_singleton_strata,
        min(n_psu)::bigint as min_psu_per_stratum,
        max(n_psu)::bigint as max_psu_per_stratum,
        sum(sum_weight) as sum_weight
    from strata
    group by source_id, wave_id
)

select
    d.*,
    s.single_psu_rule,
    l.n_strata_delivered::bigint as n_strata_delivered,
    l.n_singleton_strata_delivered::bigint as n_singleton_strata_delivered,
    s.weight_method,
    s.post_stratify,
    l.weight_min,
    l.weight_median,
    l.weight_max,
    l.weight_ratio_max_median,
    l.weight_ratio_max_median > {{ extreme }} as has_extreme_weights,
    l.n_effective,
    l.covers_all_governorates,
    l.is_synthetic
from design as d
inner join delivered as l using (source_id, wave_id)
left join sources as s using (source_id, wave_id)
