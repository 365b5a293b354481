-- Candidate headlines of the committee home page: one row per indicator x source x wave with a national
-- estimate row (IQ, all respondents), with the indicator's place in its sector and the change since the
-- source's previous wave (marts.fct_indicator_change). The dashboard picks, per sector, the first indicator
-- (indicator_order) with a published national estimate in the latest wave the session may see: wave
-- approval is decided after the build, so it is joined when the snapshot is read.
-- The change carries numbers only when both waves' national cells are published (the mart's rule) and
-- is_significant says whether it may be called a change.
with

national as (
    select * from {{ ref('rpt_governorate_estimates') }}
    where governorate_pcode = 'IQ' and has_national_estimates
),

changes as (
    select * from {{ ref('fct_indicator_change') }}
    where governorate_pcode = 'IQ' and disaggregation = 'all' and disaggregation_value = 'all'
)

select
    n.sector,
    n.sector_name,
    n.sector_order,
    n.indicator_id,
    n.indicator_name_en,
    n.indicator_name_ar,
    n.indicator_order,
    n.indicator_type,
    n.unit,
    n.direction,
    n.source_id,
    n.wave_id,
    n.wave_order,
    n.fieldwork_start,
    n.status,
    n.suppression_reason,
    n.estimate,
    n.std_error,
    n.ci_lower,
    n.ci_upper,
    n.n_unweighted,
    cast(c.wave_from as varchar) as previous_wave_id,
    cast(case when n.status <> 'suppressed' then c.difference end as double) as change,
    cast(case when n.status <> 'suppressed' then c.ci_lower end as double) as change_ci_lower,
    cast(case when n.status <> 'suppressed' then c.ci_upper end as double) as change_ci_upper,
    cast(case when n.status <> 'suppressed' then c.is_significant end as boolean) as change_is_significant,
    cast(c.not_comparable_reason as varchar) as change_not_comparable_reason,
    n.is_synthetic
from national as n
left join changes as c
    on c.indicator_id = n.indicator_id and c.source_id = n.source_id and c.wave_to = n.wave_id
