-- PEFA-style fiscal indicators per governorate x fiscal year x budget source, in IQD (USD lines at the year's
-- official rate; ratios do not depend on the unit). Formulas (PEFA 2016 Framework, PI-1 and PI-2):
--   PI-1 aggregate expenditure outturn  = sum(A) / sum(B)
--   PI-2 expenditure composition variance = sum_i |A_i - B_i * sum(A) / sum(B)| / sum(A)
-- with A actual expenditure and B the original approved allocation, over lines i = sector x economic type
-- (budget_scope) x funding stream. Both need every line to carry A and B (else NULL: a missing amount is
-- not zero). Capital share = capital / (capital + operating), only when every line has an economic type.
-- allocation_to_population_share_ratio = (allocation_i / sum allocation) / (population_i / sum population)
-- over the governorates the source reports that year; NULL for a partial source. Real year-on-year change
-- compares constant IQD with the previous fiscal year of the same source and governorate, and is NULL when
-- that year has no data, had no budget law, or either year is partial (a missing year is never zero).
-- A source that prints a governorate's total beside its capital and operating lines as aggregates, without
-- item labels (Eco Iraq 2025), is summed on the total lines only (never total + parts); capital shares are NULL for a partial source (an
-- economic type it does not list is not reported, not zero).
with

all_lines as (
    select
        *,
        -- only aggregate lines (no item label: a source listing totals per governorate) can repeat their parts;
        -- an itemised workbook's line typed "total" (both economic types) is one more item
        bool_or(budget_scope = 'total' and item_label is null)
            over (partition by governorate_pcode, fiscal_year, source_id) as has_total_line
    from {{ ref('int_budget_lines') }}
),

lines as (
    select * from all_lines
    where budget_scope = 'total' or not has_total_line or item_label is not null
),

population as (
    select * from {{ ref('stg_reference__population') }}
),

fiscal_years as (
    select fiscal_year, budget_law from {{ ref('dim_fiscal_year') }}
),

-- PI-2 lines: sector x economic type x funding stream
composition as (
    select
        governorate_pcode, fiscal_year, source_id, sector, budget_scope, funding_stream,
        sum(expenditure_iqd) as actual,
        sum(allocation_original_iqd) as budget
    from lines
    group by governorate_pcode, fiscal_year, source_id, sector, budget_scope, funding_stream
),

cells as (
    select
        governorate_pcode,
        fiscal_year,
        source_id,
        count(*) as n_lines,
        count(*) filter (where expenditure_iqd is not null and allocation_original_iqd is not null) as n_complete,
        count(distinct (sector, budget_scope, funding_stream)) as n_composition_lines,
        bool_and(budget_scope in ('capital', 'operating')) as has_economic_split,
        sum(allocation_original_iqd) as allocation_original_iqd,
        sum(allocation_revised_iqd) as allocation_revised_iqd,
        sum(expenditure_iqd) as expenditure_iqd,
        sum(allocation_original_iqd_real) as allocation_original_iqd_real,
        sum(expenditure_iqd_real) as expenditure_iqd_real,
        sum(allocation_original_iqd) filter (where budget_scope = 'capital') as capital_allocation_iqd,
        sum(expenditure_iqd) filter (where budget_scope = 'capital') as capital_expenditure_iqd,
        count(allocation_original_iqd) = count(*) as all_allocated,
        count(expenditure_iqd) = count(*) as all_spent,
        bool_or(is_partial) as is_partial,
        any_value(coverage) as coverage,
        bool_or(is_synthetic) as is_synthetic
    from lines
    group by governorate_pcode, fiscal_year, source_id
),

pi2 as (
    select
        c.governorate_pcode, c.fiscal_year, c.source_id,
        sum(abs(k.actual - k.budget * c.expenditure_iqd / c.allocation_original_iqd)) / c.expenditure_iqd
            as composition_variance
    from cells as c
    join composition as k
        on k.governorate_pcode = c.governorate_pcode
        and k.fiscal_year = c.fiscal_year
        and k.source_id = c.source_id
    where c.n_complete = c.n_lines and c.allocation_original_iqd > 0 and c.expenditure_iqd > 0
    group by c.governorate_pcode, c.fiscal_year, c.source_id, c.expenditure_iqd
),

with_population as (
    select
        c.*,
        p.population,
        bool_or(c.is_partial) over (partition by c.source_id, c.fiscal_year) as source_year_partial,
        sum(c.allocation_original_iqd) over (partition by c.source_id, c.fiscal_year) as source_year_allocation,
        sum(case when c.allocation_original_iqd is not null then p.population end)
            over (partition by c.source_id, c.fiscal_year) as source_year_population,
        count(*) filter (where not c.all_allocated or p.population is null)
            over (partition by c.source_id, c.fiscal_year) as source_year_gaps
    from cells as c
    left join population as p
        on p.governorate_pcode = c.governorate_pcode
        and p.year = c.fiscal_year
),

indicators as (
    select
        w.governorate_pcode,
        w.fiscal_year,
        w.source_id,
        w.n_lines::integer as n_lines,
        w.n_composition_lines::integer as n_composition_lines,
        w.allocation_original_iqd,
        w.allocation_revised_iqd,
        w.expenditure_iqd,
        w.allocation_original_iqd_real,
        w.expenditure_iqd_real,
        case when w.n_complete = w.n_lines and w.allocation_original_iqd > 0
            then w.expenditure_iqd / w.allocation_original_iqd end as pefa_pi1_outturn,
        k.composition_variance as pefa_pi2_composition_variance,
        case when w.has_economic_split and not w.is_partial and w.all_spent and w.expenditure_iqd > 0
            then coalesce(w.capital_expenditure_iqd, 0) / w.expenditure_iqd end as capital_share_expenditure,
        case when w.has_economic_split and not w.is_partial and w.all_allocated and w.allocation_original_iqd > 0
            then coalesce(w.capital_allocation_iqd, 0) / w.allocation_original_iqd end as capital_share_allocation,
        w.population,
        case when not w.source_year_partial and w.source_year_gaps = 0
            then w.allocation_original_iqd / w.source_year_allocation end as allocation_share,
        case when not w.source_year_partial and w.source_year_gaps = 0
            then w.population / w.source_year_population end as population_share,
        w.is_partial,
        w.coverage,
        w.is_synthetic
    from with_population as w
    left join pi2 as k
        on k.governorate_pcode = w.governorate_pcode
        and k.fiscal_year = w.fiscal_year
        and k.source_id = w.source_id
)

select
    i.governorate_pcode,
    i.fiscal_year,
    i.source_id,
    i.n_lines,
    i.n_composition_lines,
    i.allocation_original_iqd,
    i.allocation_revised_iqd,
    i.expenditure_iqd,
    i.allocation_original_iqd_real,
    i.expenditure_iqd_real,
    i.pefa_pi1_outturn,
    i.pefa_pi2_composition_variance,
    i.capital_share_expenditure,
    i.capital_share_allocation,
    i.population,
    i.allocation_share,
    i.population_share,
    i.allocation_share / i.population_share as allocation_to_population_share_ratio,
    case when prev_ok and prev.expenditure_iqd_real > 0 and i.expenditure_iqd_real is not null
        then i.expenditure_iqd_real / prev.expenditure_iqd_real - 1 end as real_change_expenditure_yoy,
    case when prev_ok and prev.allocation_original_iqd_real > 0 and i.allocation_original_iqd_real is not null
        then i.allocation_original_iqd_real / prev.allocation_original_iqd_real - 1 end as real_change_allocation_yoy,
    case
        when fy_prev.budget_law = false then 'no budget law in ' || (i.fiscal_year - 1)
        when prev.source_id is null then 'no data for ' || (i.fiscal_year - 1)
        when not coalesce(fy_prev.budget_law, false) then 'budget law unknown for ' || (i.fiscal_year - 1)
        when prev.is_partial or i.is_partial then 'partial coverage'
    end as yoy_not_comparable_reason,
    fy.budget_law,
    i.is_partial,
    i.coverage,
    i.is_synthetic
from (
    select
        i.*,
        p.source_id is not null and coalesce(fp.budget_law, false) and not p.is_partial and not i.is_partial as prev_ok
    from indicators as i
    left join indicators as p
        on p.governorate_pcode = i.governorate_pcode
        and p.source_id = i.source_id
        and p.fiscal_year = i.fiscal_year - 1
    left join fiscal_years as fp on fp.fiscal_year = i.fiscal_year - 1
) as i
left join indicators as prev
    on prev.governorate_pcode = i.governorate_pcode
    and prev.source_id = i.source_id
    and prev.fiscal_year = i.fiscal_year - 1
left join fiscal_years as fy_prev on fy_prev.fiscal_year = i.fiscal_year - 1
left join fiscal_years as fy on fy.fiscal_year = i.fiscal_year
order by i.governorate_pcode, i.fiscal_year, i.source_id
