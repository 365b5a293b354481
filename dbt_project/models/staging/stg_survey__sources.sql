-- One row per survey source x wave, with its design notes and the design rules its mapping declares
-- (single-PSU rule, strata to combine, post-stratification); a rule the mapping leaves out takes the
-- project default (dbt var single_psu_rule).
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
    fieldwork_end::date        as fieldwork_end,
    coalesce(single_psu_rule, '{{ var("single_psu_rule", "skip") }}')::varchar as single_psu_rule,
    coalesce(strata_combine_json, '{}')::json as strata_combine,
    coalesce(weight_method, 'delivered')::varchar as weight_method,
    coalesce(post_stratify, 'none')::varchar as post_stratify,
    cleaning_log_sha256s::varchar as cleaning_log_sha256s
from {{ source('raw', 'survey_sources') }}
