-- Consumer price index by year on one base (2010=100); `status` = published | estimate | projection.
select
    year::integer           as year,
    cpi::double             as cpi,
    base::varchar           as base,
    inflation_pct::double   as inflation_pct,
    status::varchar         as status,
    source::varchar         as source,
    note::varchar           as note
from {{ source('raw', 'ref_cpi') }}
