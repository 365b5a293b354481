-- Actuals of every results-framework indicator, one row per indicator x area (governorate p-code, or IQ
-- for the whole country) x period, on one shape whatever the kind:
--   survey    the published estimate (marts.fct_service_indicators, disaggregation 'all') of the framework's
--             source; period = year the wave's fieldwork started (the latest wave of a year when a source
--             has several); suppressed cells keep no actual and no CI.
--   budget    execution rate = sum(expenditure) / sum(original allocation) in IQD over the budget scopes of a
--             governorate and fiscal year (marts.fct_budget_execution), and over governorates for IQ.
--   training  cumulative up to the end of the period (cohorts started that year or before), national only:
--             officials trained, completing, share of women, or the mean knowledge gain with its paired t CI.
-- It reads marts (not staging) on purpose: the actuals are the published numbers, suppression included.
with

framework as (
    select * from {{ ref('stg_results_framework__indicators') }}
),

waves as (
    select
        source_id,
        wave_id,
        coalesce({{ dbt.cast('extract(year from fieldwork_start)', api.Column.translate_type('string')) }}, wave_id)
            as period,
        fieldwork_start
    from {{ ref('stg_survey__sources') }}
),

survey_ranked as (
    select
        f.indicator_id,
        e.governorate_pcode,
        w.period,
        e.estimate,
        e.ci_lower,
        e.ci_upper,
        e.is_suppressed,
        e.suppression_reason,
        e.is_unreliable,
        e.n_unweighted,
        e.source_id,
        e.wave_id,
        row_number() over (
            partition by f.indicator_id, e.governorate_pcode, w.period order by w.fieldwork_start desc, e.wave_id desc
        ) as wave_rank
    from framework as f
    inner join {{ ref('fct_service_indicators') }} as e
        on e.indicator_id = f.indicator_id and e.source_id = f.source_id
        and e.disaggregation = 'all'
    inner join waves as w on w.source_id = e.source_id and w.wave_id = e.wave_id
    where f.kind = 'survey'
),

survey as (
    select
        indicator_id, governorate_pcode, period,
        case when is_suppressed then null else estimate end as actual,
        case when is_suppressed then null else ci_lower end as ci_lower,
        case when is_suppressed then null else ci_upper end as ci_upper,
        true as has_sampling_error,
        is_suppressed,
        suppression_reason,
        is_unreliable,
        n_unweighted as n,
        source_id,
        wave_id
    from survey_ranked
    where wave_rank = 1
),

budget_cells as (
    select f.indicator_id, b.governorate_pcode, b.fiscal_year, b.source_id, b.expenditure_iqd, b.allocation_iqd
    from framework as f
    inner join {{ ref('fct_budget_execution') }} as b on b.source_id = f.source_id
    where f.kind = 'budget' and f.measure = 'execution_rate'
        and b.expenditure_iqd is not null and b.allocation_iqd is not null
),

budget as (
    select
        indicator_id, governorate_pcode, {{ dbt.cast('fiscal_year', api.Column.translate_type('string')) }} as period,
        sum(expenditure_iqd) / nullif(sum(allocation_iqd), 0) as actual
    from budget_cells
    group by indicator_id, governorate_pcode, fiscal_year
    union all
    select
        indicator_id, 'IQ' as governorate_pcode, {{ dbt.cast('fiscal_year', api.Column.translate_type('string')) }} as period,
        sum(expenditure_iqd) / nullif(sum(allocation_iqd), 0) as actual
    from budget_cells
    group by indicator_id, fiscal_year
),

participants as (
    select * from {{ ref('stg_training__participants') }}
),

training_periods as (
    -- the framework's periods and the cohorts' periods, within the span the records cover
    select f.indicator_id, f.measure, f.track, p.period
    from framework as f
    inner join (
        select indicator_id, period from {{ ref('stg_results_framework__targets') }} where governorate_pcode = 'IQ'
        union
        select f2.indicator_id, tp.period
        from framework as f2 cross join (select distinct period from participants) as tp
        where f2.kind = 'training'
    ) as p on p.indicator_id = f.indicator_id
    where f.kind = 'training'
        and p.period >= (select min(period) from participants)
        and p.period <= (select max(period) from participants)
),

training_pool as (
    select
        tp.indicator_id, tp.measure, tp.period,
        count(*) as n_trained,
        sum(case when pa.is_completed then 1 else 0 end) as n_completed,
        avg(case when pa.sex = 'female' then 1.0 else 0.0 end) as share_women,
        count(pa.knowledge_gain) as n_paired,
        avg(pa.knowledge_gain) as mean_gain,
        stddev_samp(pa.knowledge_gain) as sd_gain
    from training_periods as tp
    inner join participants as pa
        on pa.period <= tp.period and (tp.track = 'all' or pa.track = tp.track)
    group by tp.indicator_id, tp.measure, tp.period
),

training as (
    select
        p.indicator_id, 'IQ' as governorate_pcode, p.period,
        case p.measure
            when 'trained' then p.n_trained * 1.0
            when 'completed' then p.n_completed * 1.0
            when 'share_women' then p.share_women
            when 'knowledge_gain' then p.mean_gain
        end as actual,
        case when p.measure = 'knowledge_gain'
            then {{ paired_mean_ci('p.mean_gain', 'p.sd_gain', 'p.n_paired', 't.t_975', 'lower') }} end as ci_lower,
        case when p.measure = 'knowledge_gain'
            then {{ paired_mean_ci('p.mean_gain', 'p.sd_gain', 'p.n_paired', 't.t_975', 'upper') }} end as ci_upper,
        p.measure = 'knowledge_gain' as has_sampling_error,
        case when p.measure = 'knowledge_gain' then p.n_paired else p.n_trained end as n
    from training_pool as p
    left join {{ ref('t_quantiles') }} as t on t.df = p.n_paired - 1
)

select
    indicator_id, governorate_pcode, period, actual, ci_lower, ci_upper, has_sampling_error, is_suppressed,
    suppression_reason, is_unreliable, n, source_id, wave_id
from survey
union all
select
    indicator_id, governorate_pcode, period, actual, null, null, false, false, null, false, null, null, null
from budget
union all
select
    indicator_id, governorate_pcode, period, actual, ci_lower, ci_upper, has_sampling_error, false, null, false, n,
    null, null
from training
