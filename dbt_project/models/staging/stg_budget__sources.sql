-- Budget sources as loaded: coverage is `complete` or `partial` (a partial source's figures are not a
-- governorate's whole year or not every governorate; coverage_note says what is missing).
select
    source_id::varchar                          as source_id,
    title::varchar                              as title,
    citation::varchar                           as citation,
    coalesce(is_synthetic, false)::boolean      as is_synthetic,
    coalesce(coverage, 'complete')::varchar     as coverage,
    coverage_note::varchar                      as coverage_note
from {{ source('raw', 'budget_sources') }}
