-- One row per survey source x wave, with its design notes.
select
    source_id::varchar         as source_id,
    wave_id::varchar           as wave_id,
    title::varchar             as title,
    unit_of_analysis::varchar  as unit_of_analysis,
    weight_note::varchar       as weight_note,
    design_note::varchar       as design_note,
    coverage::varchar          as coverage,
    coalesce(is_synthetic, false)::boolean as is_synthetic,
    fieldwork_start::date      as fieldwork_start,
    fieldwork_end::date        as fieldwork_end
from {{ source('raw', 'survey_sources') }}
