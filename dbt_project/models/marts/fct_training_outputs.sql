-- Officials trained and completing, one row per track x cohort x institution (governorate p-code, or
-- federal / krg) x level of government x sex. Additive: any total is a sum of rows.
with participants as (
    select * from {{ ref('stg_training__participants') }}
)

select
    track,
    cohort,
    min(cohort_start) as cohort_start,
    period,
    institution_type,
    coalesce(governorate_pcode, institution_type) as area_code,
    governorate_pcode,
    level_of_government,
    sex,
    count(*) as n_trained,
    cast(sum(case when is_completed then 1 else 0 end) as integer) as n_completed,
    {{ dbt.bool_or('is_synthetic') }} as is_synthetic
from participants
group by track, cohort, period, institution_type, coalesce(governorate_pcode, institution_type), governorate_pcode,
    level_of_government, sex
