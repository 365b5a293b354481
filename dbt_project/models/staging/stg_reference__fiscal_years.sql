-- Fiscal years (= calendar years) and whether a federal budget law governed them: false for 2014, 2020 and
-- 2022 (spending at 1/12 of the previous year's actual current expenditure per month); NULL = not known yet.
select
    fiscal_year::integer    as fiscal_year,
    budget_law::boolean     as budget_law,
    law::varchar            as law,
    source::varchar         as source,
    note::varchar           as note
from {{ source('raw', 'ref_fiscal_years') }}
