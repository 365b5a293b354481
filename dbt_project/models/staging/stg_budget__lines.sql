-- Budget lines as loaded; amounts stay in the source's unit (`amount_unit`).
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
    coalesce(is_synthetic, false)::boolean as is_synthetic
from {{ source('raw', 'budget_lines') }}
