-- One row per loaded participant x cohort: completion against the source's threshold (mean attendance over
-- the sessions, percent) and the knowledge gain (post-test minus pre-test, points) when both tests exist.
select
    source_id,
    file_name,
    row_number,
    participant_id,
    track,
    cohort,
    cohort_start,
    period,
    institution_type,
    governorate_pcode,
    level_of_government,
    sex,
    role,
    sessions,
    attendance_pct,
    completion_threshold_pct,
    attendance_pct >= completion_threshold_pct as is_completed,
    pre_test,
    post_test,
    score_max,
    case when pre_test is not null and post_test is not null then post_test - pre_test end as knowledge_gain,
    is_synthetic
from {{ source('programme', 'training_participants') }}
