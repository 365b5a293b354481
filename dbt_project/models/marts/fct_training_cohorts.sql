-- One row per track x cohort, per track (cohort = 'all') and overall (track = 'all', cohort = 'all'):
-- officials trained and completing, share of women, and the mean knowledge gain: the paired difference
-- post-test - pre-test over participants with both tests, with a 95 % t interval
-- (macro paired_mean_ci: Student's paired t; t quantiles from the t_quantiles seed).
with participants as (
    select * from {{ ref('stg_training__participants') }}
),

t_table as (
    select df, t_975 from {{ ref('t_quantiles') }}
),

grouped as (
    select track, cohort, participant_id, cohort_start, period, sex, is_completed, pre_test, post_test, knowledge_gain
    from participants
    union all
    select track, 'all', participant_id, cohort_start, period, sex, is_completed, pre_test, post_test, knowledge_gain
    from participants
    union all
    select 'all', 'all', participant_id, cohort_start, period, sex, is_completed, pre_test, post_test, knowledge_gain
    from participants
),

summary as (
    select
        track,
        cohort,
        min(cohort_start) as cohort_start,
        max(period) as period,
        count(*) as n_trained,
        cast(sum(case when is_completed then 1 else 0 end) as integer) as n_completed,
        cast(sum(case when sex = 'female' then 1 else 0 end) as integer) as n_women,
        count(knowledge_gain) as n_paired,
        cast(sum(case when post_test is not null and pre_test is null then 1 else 0 end) as integer) as n_post_without_pre,
        avg(case when knowledge_gain is not null then pre_test end) as mean_pre_test,
        avg(case when knowledge_gain is not null then post_test end) as mean_post_test,
        avg(knowledge_gain) as mean_knowledge_gain,
        stddev_samp(knowledge_gain) as sd_knowledge_gain
    from grouped
    group by track, cohort
)

select
    s.track,
    s.cohort,
    s.cohort_start,
    s.period,
    s.n_trained,
    s.n_completed,
    s.n_completed * 1.0 / s.n_trained as completion_rate,
    s.n_women,
    s.n_women * 1.0 / s.n_trained as share_women,
    s.n_paired,
    s.n_post_without_pre,
    s.mean_pre_test,
    s.mean_post_test,
    s.mean_knowledge_gain,
    s.sd_knowledge_gain,
    {{ paired_mean_se('s.sd_knowledge_gain', 's.n_paired') }} as se_knowledge_gain,
    {{ paired_mean_ci('s.mean_knowledge_gain', 's.sd_knowledge_gain', 's.n_paired', 't.t_975', 'lower') }}
        as knowledge_gain_ci_lower,
    {{ paired_mean_ci('s.mean_knowledge_gain', 's.sd_knowledge_gain', 's.n_paired', 't.t_975', 'upper') }}
        as knowledge_gain_ci_upper
from summary as s
left join t_table as t on t.df = s.n_paired - 1
