-- Progress against the results framework (the IPTT): one row per framework indicator x area (governorate
-- p-code, or IQ for the whole country) x period that has a target or an actual. Baseline from the framework;
-- target = the governorate's own target when the framework sets one, else the national target
-- (target_scope says which); actual and CI from int_indicator_actuals; percent of the distance from baseline
-- to target; status by the macro progress_status (docs/results-framework.md). Suppressed cells carry no
-- actual, no CI, no percent and no status. Every row records the framework version and the indicator's
-- formula version.
with

framework as (
    select * from {{ ref('stg_results_framework__indicators') }}
),

targets as (
    select * from {{ ref('stg_results_framework__targets') }}
),

actuals as (
    select * from {{ ref('int_indicator_actuals') }}
),

cells as (
    select indicator_id, governorate_pcode, period from actuals
    union
    select indicator_id, governorate_pcode, period from targets
),

joined as (
    select
        f.framework_version,
        f.formula_version,
        f.indicator_id,
        f.result_id,
        f.level,
        f.kind,
        f.name_en,
        f.name_ar,
        f.unit,
        f.direction,
        f.responsible_unit,
        f.sort_order,
        c.governorate_pcode,
        c.period,
        f.baseline_value,
        f.baseline_period,
        f.baseline_source,
        coalesce(tg.target_value, tn.target_value) as target_value,
        case when tg.target_value is not null then 'governorate'
             when tn.target_value is not null then 'national' end as target_scope,
        a.actual,
        a.ci_lower,
        a.ci_upper,
        coalesce(a.has_sampling_error, false) as has_sampling_error,
        coalesce(a.is_suppressed, false) as is_suppressed,
        a.suppression_reason,
        coalesce(a.is_unreliable, false) as is_unreliable,
        a.n,
        a.source_id,
        a.wave_id
    from cells as c
    inner join framework as f on f.indicator_id = c.indicator_id
    left join actuals as a
        on a.indicator_id = c.indicator_id and a.governorate_pcode = c.governorate_pcode and a.period = c.period
    left join targets as tg
        on tg.indicator_id = c.indicator_id and tg.governorate_pcode = c.governorate_pcode and tg.period = c.period
        and c.governorate_pcode <> 'IQ'
    left join targets as tn
        on tn.indicator_id = c.indicator_id and tn.governorate_pcode = 'IQ' and tn.period = c.period
)

select
    framework_version,
    formula_version,
    indicator_id,
    result_id,
    level,
    kind,
    name_en,
    name_ar,
    unit,
    direction,
    responsible_unit,
    sort_order,
    governorate_pcode,
    period,
    baseline_value,
    baseline_period,
    baseline_source,
    target_value,
    target_scope,
    case when is_suppressed then null else actual end as actual,
    case when is_suppressed then null else ci_lower end as ci_lower,
    case when is_suppressed then null else ci_upper end as ci_upper,
    has_sampling_error,
    is_suppressed,
    suppression_reason,
    is_unreliable,
    n,
    source_id,
    wave_id,
    case when not is_suppressed and actual is not null and target_value is not null and target_value <> baseline_value
        then 100.0 * (actual - baseline_value) / (target_value - baseline_value) end as pct_of_distance,
    {{ progress_status('actual', 'ci_lower', 'ci_upper', 'target_value', 'direction', 'has_sampling_error', 'is_suppressed') }}
        as status,
    case
        when is_suppressed then 'suppressed: too few respondents to publish'
        when actual is null then 'no actual for this period'
        when target_value is null then 'no target for this period'
        when has_sampling_error and ci_lower is null then 'no confidence interval'
    end as status_note
from joined
