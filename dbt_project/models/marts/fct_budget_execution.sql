-- Budget execution by governorate x fiscal year x source x budget scope (sectors summed).
-- Amounts stay in the source's unit (`unit`, e.g. "USD million"; x unit_multiplier = currency units).
-- execution_rate = expenditure / original allocation (PEFA PI-1) when every line of the cell has both;
-- else the published percentage / 100 (one line, or the allocation-weighted mean of the lines' percentages
-- when every line has an allocation); else NULL. Years without a budget law simply have no rows.
with

lines as (
    select * from {{ ref('stg_budget__lines') }}
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
        sum(allocation_original) as allocation,
        sum(allocation_revised) as allocation_revised,
        sum(expenditure) as expenditure,
        sum(allocation_original * execution_pct_published) as alloc_times_pct,
        any_value(execution_pct_published) as any_pct,
        max(as_of) as as_of,
        bool_or(is_synthetic) as is_synthetic
    from lines
    group by governorate_pcode, fiscal_year, source_id, budget_scope, currency, amount_unit
)

select
    governorate_pcode,
    fiscal_year,
    source_id,
    budget_scope,
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
    is_synthetic
from cells
order by governorate_pcode, fiscal_year, source_id, budget_scope
