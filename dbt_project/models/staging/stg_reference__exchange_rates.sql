-- Official Central Bank of Iraq IQD per USD, one rate per year (= fiscal year); `basis` says whether it is an
-- annual average, the rate in force all year, or the days-weighted average of a year with a change
-- (data_contracts/reference/README.md).
select
    year::integer           as year,
    iqd_per_usd::double     as iqd_per_usd,
    basis::varchar          as basis,
    source::varchar         as source,
    note::varchar           as note
from {{ source('raw', 'ref_exchange_rates') }}
