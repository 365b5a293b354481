-- What the committee home page shows per indicator x wave x area: one row per indicator (proportions and
-- means) x source x wave x area (the governorates and IQ, the whole country), all respondents. Suppression is
-- applied here, once: a suppressed cell (or one of unknown status) keeps its identifiers, n and reason and
-- has no estimate, SE, CI or reliability flag. Each governorate is compared with the national estimate of
-- the same wave: 'above' / 'below' when its whole 95 % CI lies above / below the national point estimate.
with

cells as (
    select * from {{ ref('fct_service_indicators') }}
    where disaggregation = 'all' and disaggregation_value = 'all'
),

indicators as (
    select * from {{ ref('dim_indicator') }}
    where indicator_type in ('proportion', 'mean')
),

waves as (
    select * from {{ ref('dim_wave') }}
),

areas as (
    select * from {{ ref('dim_governorate') }}
),

published as (
    select
        c.*,
        coalesce(c.is_suppressed, true) as hidden
    from cells as c
),

shown as (
    select
        p.indicator_id,
        p.source_id,
        p.wave_id,
        p.governorate_pcode,
        case
            when p.hidden then 'suppressed'
            when p.is_unreliable then 'unreliable'
            else 'published'
        end as status,
        case when p.hidden then coalesce(p.suppression_reason, 'suppression status unknown') end as suppression_reason,
        case when not p.hidden then p.estimate end as estimate,
        case when not p.hidden then p.std_error end as std_error,
        case when not p.hidden then p.ci_lower end as ci_lower,
        case when not p.hidden then p.ci_upper end as ci_upper,
        case when not p.hidden then p.is_unreliable end as is_unreliable,
        p.n_unweighted,
        p.is_synthetic
    from published as p
),

national as (
    select indicator_id, source_id, wave_id, estimate as national_estimate
    from shown
    where governorate_pcode = 'IQ' and status <> 'suppressed'
)

select
    cast(s.indicator_id as varchar) as indicator_id,
    cast(i.name_en as varchar) as indicator_name_en,
    cast(i.name_ar as varchar) as indicator_name_ar,
    cast(i.sector as varchar) as sector,
    cast(i.sector_name as varchar) as sector_name,
    cast(i.sector_order as integer) as sector_order,
    cast(i.indicator_order as integer) as indicator_order,
    cast(i.indicator_type as varchar) as indicator_type,
    cast(i.unit as varchar) as unit,
    cast(i.direction as varchar) as direction,
    cast(s.source_id as varchar) as source_id,
    cast(s.wave_id as varchar) as wave_id,
    cast(w.wave_order as integer) as wave_order,
    cast(w.fieldwork_start as date) as fieldwork_start,
    cast(coalesce(w.has_national_estimates, false) as boolean) as has_national_estimates,
    cast(w.coverage as varchar) as coverage,
    cast(s.governorate_pcode as varchar) as governorate_pcode,
    cast(a.area_level as varchar) as area_level,
    cast(a.name_en as varchar) as governorate_name_en,
    cast(a.name_ar as varchar) as governorate_name_ar,
    cast(s.status as varchar) as status,
    cast(s.suppression_reason as varchar) as suppression_reason,
    cast(s.estimate as double) as estimate,
    cast(s.std_error as double) as std_error,
    cast(s.ci_lower as double) as ci_lower,
    cast(s.ci_upper as double) as ci_upper,
    cast(s.is_unreliable as boolean) as is_unreliable,
    cast(s.n_unweighted as integer) as n_unweighted,
    cast(case
        when a.area_level <> 'governorate' or s.estimate is null or n.national_estimate is null then null
        when s.ci_lower > n.national_estimate then 'above'
        when s.ci_upper < n.national_estimate then 'below'
        else 'not different'
    end as varchar) as versus_national,
    cast(coalesce(s.is_synthetic, false) as boolean) as is_synthetic
from shown as s
inner join indicators as i on i.indicator_id = s.indicator_id
inner join areas as a on a.governorate_pcode = s.governorate_pcode
left join waves as w on w.source_id = s.source_id and w.wave_id = s.wave_id
left join national as n on n.indicator_id = s.indicator_id and n.source_id = s.source_id and n.wave_id = s.wave_id
