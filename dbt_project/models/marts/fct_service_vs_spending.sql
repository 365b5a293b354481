-- Sector spending per capita next to the service indicators of the same governorate, sector and year.
-- Spending: int_budget_lines summed per governorate x fiscal year x budget source x sector (sectors other
-- than `all` and `other`), per capita with the population of that governorate and year. Indicators:
-- fct_service_indicators at the governorate, disaggregation `all`, of waves whose fieldwork midpoint
-- (fieldwork_start + (fieldwork_end - fieldwork_start) / 2; the one date known when only one is) falls in the
-- fiscal year, for indicators whose sector is one of the budget sector's survey_sectors. A suppressed cell
-- keeps its flag and reason but no number (estimate, std_error and CI are NULL), as in fct_indicator_change.
with

lines as (
    select * from {{ ref('int_budget_lines') }}
    where sector not in ('all', 'other')
),

population as (
    select * from {{ ref('stg_reference__population') }}
),

sectors as (
    select sector, name_en as sector_name, unnest(survey_sector_list) as survey_sector
    from {{ ref('stg_reference__budget_sectors') }}
),

spending as (
    select
        governorate_pcode,
        fiscal_year,
        source_id as budget_source_id,
        sector,
        sum(allocation_original_iqd) as allocation_iqd,
        sum(expenditure_iqd) as expenditure_iqd,
        sum(expenditure_iqd_real) as expenditure_iqd_real,
        bool_or(is_partial) as is_partial,
        any_value(budget_law) as budget_law,
        bool_or(is_synthetic) as is_synthetic
    from lines
    group by governorate_pcode, fiscal_year, source_id, sector
),

waves as (
    select
        source_id,
        wave_id,
        coalesce(
            fieldwork_start + ((fieldwork_end - fieldwork_start) // 2)::integer,
            fieldwork_start,
            fieldwork_end
        ) as fieldwork_midpoint
    from {{ ref('dim_wave') }}
),

estimates as (
    select
        e.indicator_id,
        i.sector as survey_sector,
        i.name_en as indicator_name,
        i.unit as indicator_unit,
        e.source_id,
        e.wave_id,
        w.fieldwork_midpoint,
        year(w.fieldwork_midpoint) as fiscal_year,
        e.governorate_pcode,
        e.estimate,
        e.std_error,
        e.ci_lower,
        e.ci_upper,
        e.n_unweighted,
        e.is_suppressed,
        e.suppression_reason,
        e.is_unreliable,
        e.is_synthetic
    from {{ ref('fct_service_indicators') }} as e
    join {{ ref('dim_indicator') }} as i on i.indicator_id = e.indicator_id
    join waves as w on w.source_id = e.source_id and w.wave_id = e.wave_id
    where e.disaggregation = 'all'
      and w.fieldwork_midpoint is not null
)

select
    s.governorate_pcode,
    s.fiscal_year,
    s.budget_source_id,
    s.sector,
    k.sector_name,
    s.allocation_iqd,
    s.expenditure_iqd,
    s.expenditure_iqd_real,
    p.population,
    s.allocation_iqd / p.population as allocation_iqd_per_capita,
    s.expenditure_iqd / p.population as expenditure_iqd_per_capita,
    s.expenditure_iqd_real / p.population as expenditure_iqd_real_per_capita,
    s.is_partial,
    s.budget_law,
    e.indicator_id,
    e.indicator_name,
    e.indicator_unit,
    e.survey_sector,
    e.source_id as survey_source_id,
    e.wave_id,
    e.fieldwork_midpoint,
    case when not e.is_suppressed then e.estimate end as estimate,
    case when not e.is_suppressed then e.std_error end as std_error,
    case when not e.is_suppressed then e.ci_lower end as ci_lower,
    case when not e.is_suppressed then e.ci_upper end as ci_upper,
    e.n_unweighted,
    e.is_suppressed,
    e.suppression_reason,
    e.is_unreliable,
    s.is_synthetic or e.is_synthetic as is_synthetic
from spending as s
join sectors as k on k.sector = s.sector
join estimates as e
    on e.governorate_pcode = s.governorate_pcode
    and e.fiscal_year = s.fiscal_year
    and e.survey_sector = k.survey_sector
left join population as p
    on p.governorate_pcode = s.governorate_pcode
    and p.year = s.fiscal_year
order by s.governorate_pcode, s.fiscal_year, s.budget_source_id, s.sector, e.indicator_id, e.source_id, e.wave_id
