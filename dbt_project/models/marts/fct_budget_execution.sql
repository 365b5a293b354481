-- Budget execution by governorate x fiscal year x source x budget scope (sectors summed).
-- Amounts stay in the source's unit (`unit`, e.g. "USD million"; x unit_multiplier = currency units).
-- execution_rate = expenditure / original allocation (PEFA PI-1) when every line of the cell has both;
-- else the published percentage / 100 (one line, or the allocation-weighted mean of the lines' percentages
-- when every line has an allocation); else NULL. Years without a budget law simply have no rows (the
-- `budget_law` flag says which years had none: dim_fiscal_year).
-- The same sums in IQD, USD and constant IQD (int_budget_lines), per capita (population
-- of the governorate and year, stg_reference__population), execution against the revised allocation,
-- is_partial (source coverage partial or period_months < 12) and the budget-law flag.
with

lines as (
    select * from {{ ref('int_budget_lines') }}
),

population as (
    select * from {{ ref('stg_reference__population') }}
),

cells as (
    select
        governorate_pcode,
        fiscal_year,
        source_id,
        budget_scope,
        currency,
        amount_unit as unit,
        any_value(unit_multiplier) as unit_multiplier,
        count(*) as n_lines,
        count(allocation_original) as n_allocation,
        count(expenditure) as n_expenditure,
        count(*) filter (where allocation_original is not null and expenditure is not null) as n_both,
        count(execution_pct_published) as n_pct,
        count(*) filter (where allocation_original is not null and execution_pct_published is not null) as n_alloc_pct,
        count(*) filter (where allocation_revised is not null and expenditure is not null) as n_both_revised,
        sum(allocation_original) as allocation,
        sum(allocation_revised) as allocation_revised,
        sum(expenditure) as expenditure,
        sum(allocation_original * execution_pct_published) as alloc_times_pct,
        sum(allocation_original_iqd) as allocation_iqd,
        sum(allocation_revised_iqd) as allocation_revised_iqd,
        sum(expenditure_iqd) as expenditure_iqd,
        sum(allocation_original_usd) as allocation_usd,
        sum(allocation_revised_usd) as allocation_revised_usd,
        sum(expenditure_usd) as expenditure_usd,
        sum(allocation_original_iqd_real) as allocation_iqd_real,
        sum(allocation_revised_iqd_real) as allocation_revised_iqd_real,
        sum(expenditure_iqd_real) as expenditure_iqd_real,
        min(period_months) as period_months,
        any_value(coverage) as coverage,
        bool_or(is_partial) as is_partial,
        any_value(budget_law) as budget_law,
        any_value(execution_pct_published) as any_pct,
        max(as_of) as as_of,
        bool_or(is_synthetic) as is_synthetic
    from lines
    group by governorate_pcode, fiscal_year, source_id, budget_scope, currency, amount_unit
)

select
    c.governorate_pcode,
    c.fiscal_year,
    c.source_id,
    c.budget_scope,
    allocation,
    expenditure,
    case
        when n_both = n_lines and allocation > 0 then expenditure / allocation
        when n_pct = n_lines and n_lines = 1 then any_pct / 100.0
        when n_alloc_pct = n_lines and allocation > 0 then alloc_times_pct / allocation / 100.0
    end as execution_rate,
    case
        when n_both = n_lines and allocation > 0 then 'computed'
        when n_pct = n_lines and n_lines = 1 then 'published'
        when n_alloc_pct = n_lines and allocation > 0 then 'published'
    end as execution_rate_source,
    allocation_revised,
    currency,
    unit,
    unit_multiplier,
    n_lines::integer as n_lines,
    as_of,
    c.is_synthetic,
    -- amounts in IQD (USD at the year's official rate), USD and constant IQD of var('cpi_base_year')
    allocation_iqd,
    allocation_revised_iqd,
    expenditure_iqd,
    allocation_usd,
    allocation_revised_usd,
    expenditure_usd,
    allocation_iqd_real,
    allocation_revised_iqd_real,
    expenditure_iqd_real,
    p.population,
    p.method as population_method,
    allocation_iqd / p.population as allocation_iqd_per_capita,
    expenditure_iqd / p.population as expenditure_iqd_per_capita,
    allocation_usd / p.population as allocation_usd_per_capita,
    expenditure_usd / p.population as expenditure_usd_per_capita,
    allocation_iqd_real / p.population as allocation_iqd_real_per_capita,
    expenditure_iqd_real / p.population as expenditure_iqd_real_per_capita,
    case when n_both_revised = n_lines and allocation_revised > 0 then expenditure / allocation_revised end
        as execution_rate_revised,
    period_months::integer as period_months,
    coverage,
    is_partial,
    budget_law
from cells as c
left join population as p
    on p.governorate_pcode = c.governorate_pcode
    and p.year = c.fiscal_year
order by c.governorate_pcode, c.fiscal_year, c.source_id, c.budget_scope
