-- One row per budget line with its amounts in IQD (USD at the year's official rate), in USD (IQD at the same
-- rate) and in constant IQD of var('cpi_base_year') (real = nominal IQD / (CPI_t / CPI_base)), plus the
-- source's coverage and whether the line covers less than the whole fiscal year.
with

lines as (
    select * from {{ ref('stg_budget__lines') }}
),

years as (
    select fiscal_year, budget_law, cpi_deflator from {{ ref('dim_fiscal_year') }}
),

sources as (
    select * from {{ ref('stg_budget__sources') }}
)

select
    l.source_id,
    l.file_name,
    l.file_sha256,
    l.row_number,
    l.governorate_pcode,
    l.fiscal_year,
    l.sector,
    l.budget_scope,
    l.funding_stream,
    l.sheet_name,
    l.chapter,
    l.item_label,
    l.period_months,
    l.currency,
    l.amount_unit,
    l.unit_multiplier,
    l.iqd_per_usd,
    y.cpi_deflator,
    y.budget_law,
    coalesce(s.coverage, 'complete') as coverage,
    s.coverage_note,
    coalesce(s.coverage = 'partial', false) or coalesce(l.period_months < 12, false) as is_partial,
    l.allocation_original,
    l.allocation_revised,
    l.expenditure,
    l.execution_pct_published,
    l.allocation_original_iqd,
    l.allocation_revised_iqd,
    l.expenditure_iqd,
    l.allocation_original_iqd / l.iqd_per_usd as allocation_original_usd,
    l.allocation_revised_iqd / l.iqd_per_usd  as allocation_revised_usd,
    l.expenditure_iqd / l.iqd_per_usd         as expenditure_usd,
    l.allocation_original_iqd / y.cpi_deflator as allocation_original_iqd_real,
    l.allocation_revised_iqd / y.cpi_deflator  as allocation_revised_iqd_real,
    l.expenditure_iqd / y.cpi_deflator         as expenditure_iqd_real,
    l.as_of,
    l.is_synthetic or coalesce(s.is_synthetic, false) as is_synthetic
from lines as l
left join years as y on y.fiscal_year = l.fiscal_year
left join sources as s on s.source_id = l.source_id
