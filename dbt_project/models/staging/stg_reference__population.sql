-- Population by governorate and year on mizan's 19-unit boundaries, gaps filled by the ingestion
-- (`method`: published, interpolated, ...; rule in data_contracts/reference/README.md).
select
    governorate_pcode::varchar  as governorate_pcode,
    year::integer               as year,
    population::double          as population,
    method::varchar             as method,
    source::varchar             as source
from {{ source('raw', 'ref_population') }}
