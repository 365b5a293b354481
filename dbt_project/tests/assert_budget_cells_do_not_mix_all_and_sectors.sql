-- A budget cell (source x governorate x year x scope) must hold either one `all` line set or sector
-- lines, never both: fct_budget_execution sums sectors, so mixing them would double count.
select source_id, governorate_pcode, fiscal_year, budget_scope
from {{ ref('stg_budget__lines') }}
group by source_id, governorate_pcode, fiscal_year, budget_scope
having bool_or(sector = 'all') and bool_or(sector <> 'all')
