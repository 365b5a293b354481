-- Survey waves: description from the source mapping plus the design actually loaded (variance strata and
-- PSUs after the single-PSU rule, degrees of freedom, weights and their extremes, national coverage).
with

sources as (
    select * from {{ ref('stg_survey__sources') }}
),

design as (
    select * from {{ ref('int_survey_design') }}
)

select
    coalesce(s.source_id, d.source_id) as source_id,
    coalesce(s.wave_id, d.wave_id) as wave_id,
    s.title,
    coalesce(s.is_synthetic, false) or coalesce(d.is_synthetic, false) as is_synthetic,
    s.fieldwork_start,
    s.fieldwork_end,
    row_number() over (
        partition by coalesce(s.source_id, d.source_id)
        order by s.fieldwork_start nulls last, {{ natural_sort_key('coalesce(s.wave_id, d.wave_id)') }}
    )::integer as wave_order,
    coalesce(d.n_respondents, 0)::integer as n_respondents,
    coalesce(d.n_strata, 0)::integer as n_strata,
    coalesce(d.n_psu, 0)::integer as n_psu,
    d.n_singleton_strata::integer as n_singleton_strata,
    d.degrees_of_freedom::integer as degrees_of_freedom,
    s.single_psu_rule,
    d.n_strata_delivered::integer as n_strata_delivered,
    d.n_singleton_strata_delivered::integer as n_singleton_strata_delivered,
    s.weight_method,
    s.post_stratify,
    s.cleaning_log_sha256s,
    d.weight_min,
    d.weight_median,
    d.weight_max,
    d.weight_ratio_max_median,
    d.has_extreme_weights,
    d.n_effective,
    coalesce(d.covers_all_governorates, false) as has_national_estimates,
    s.unit_of_analysis,
    s.weight_note,
    s.design_note,
    s.coverage
from sources as s
full outer join design as d
    on d.source_id = s.source_id
    and d.wave_id = s.wave_id
order by source_id, wave_id
