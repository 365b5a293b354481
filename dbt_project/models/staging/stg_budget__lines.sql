-- Budget lines as loaded. The source's amounts stay in its unit (`amount_unit`: allocation_original,
-- allocation_revised, expenditure); the unit multiplier is applied here and only here (`*_amount`: in
-- currency units, IQD or USD), and `*_iqd` gives every amount in IQD (a USD amount x the official rate of
-- its fiscal year, stg_reference__exchange_rates; NULL when the year has no rate).
with

lines as (
    select * from {{ source('raw', 'budget_lines') }}
),

rates as (
    select * from {{ ref('stg_reference__exchange_rates') }}
),

typed as (
    select
        source_id::varchar                 as source_id,
        file_name::varchar                 as file_name,
        file_sha256::varchar               as file_sha256,
        row_number::integer                as row_number,
        governorate_pcode::varchar         as governorate_pcode,
        governorate_name_source::varchar   as governorate_name_source,
        fiscal_year::integer               as fiscal_year,
        coalesce(sector, 'all')::varchar   as sector,
        budget_scope::varchar              as budget_scope,
        allocation_original::double        as allocation_original,
        allocation_revised::double         as allocation_revised,
        expenditure::double                as expenditure,
        execution_pct_published::double    as execution_pct_published,
        currency::varchar                  as currency,
        amount_unit::varchar               as amount_unit,
        unit_multiplier::double            as unit_multiplier,
        as_of::date                        as as_of,
        coalesce(is_synthetic, false)::boolean as is_synthetic,
        sheet_name::varchar                as sheet_name,
        chapter::varchar                   as chapter,
        item_label::varchar                as item_label,
        coalesce(funding_stream, 'all')::varchar as funding_stream,
        period_months::integer             as period_months
    from lines
)

select
    t.*,
    t.allocation_original * t.unit_multiplier as allocation_original_amount,
    t.allocation_revised * t.unit_multiplier  as allocation_revised_amount,
    t.expenditure * t.unit_multiplier         as expenditure_amount,
    r.iqd_per_usd,
    t.allocation_original * t.unit_multiplier * case when t.currency = 'USD' then r.iqd_per_usd else 1 end as allocation_original_iqd,
    t.allocation_revised * t.unit_multiplier * case when t.currency = 'USD' then r.iqd_per_usd else 1 end  as allocation_revised_iqd,
    t.expenditure * t.unit_multiplier * case when t.currency = 'USD' then r.iqd_per_usd else 1 end         as expenditure_iqd
from typed as t
left join rates as r
    on r.year = t.fiscal_year
