-- Fiscal years (= calendar years): every year of the reference table (2014, 2020 and 2022 included although
-- they had no budget law and may have no budget data) and every year a budget source reports. With the
-- official exchange rate, the CPI and the deflator to constant IQD of var('cpi_base_year'):
-- real = nominal / cpi_deflator, cpi_deflator = CPI_t / CPI_base.
with

fiscal as (
    select * from {{ ref('stg_reference__fiscal_years') }}
),

lines as (
    select fiscal_year, count(*) as n_budget_lines, count(distinct source_id) as n_budget_sources
    from {{ ref('stg_budget__lines') }}
    group by fiscal_year
),

years as (
    select fiscal_year from fiscal
    union
    select fiscal_year from lines
),

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

cpi as (
    select * from {{ ref('stg_reference__cpi') }}
),

base as (
    select cpi as cpi_base from cpi where year = {{ var('cpi_base_year') }}
)

select
    y.fiscal_year,
    f.budget_law,
    f.law as budget_law_name,
    f.note as budget_law_note,
    r.iqd_per_usd,
    r.basis as exchange_rate_basis,
    c.cpi,
    c.base as cpi_index_base,
    c.status as cpi_status,
    {{ var('cpi_base_year') }}::integer as cpi_base_year,
    c.cpi / b.cpi_base as cpi_deflator,
    coalesce(l.n_budget_lines, 0)::integer as n_budget_lines,
    coalesce(l.n_budget_sources, 0)::integer as n_budget_sources
from years as y
left join fiscal as f on f.fiscal_year = y.fiscal_year
left join rates as r on r.year = y.fiscal_year
left join cpi as c on c.year = y.fiscal_year
left join lines as l on l.fiscal_year = y.fiscal_year
cross join base as b
order by y.fiscal_year
