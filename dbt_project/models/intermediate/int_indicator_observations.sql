-- One row per indicator x respondent (x answer category, for a distribution indicator) of every survey wave
-- whose source maps the indicator's question. Respondents who were not asked / skipped / said "don't know"
-- keep their row (y NULL) so that their PSU stays in the variance step (docs/methodology.md section 1: item
-- non-response is a domain exclusion, not a row deletion).
--
-- indicator_type   proportion: y = 1 for a success code, 0 for another substantive code;
--                  mean: y = the numeric answer, bounded by the question's valid range (value_min/max);
--                  distribution: one proportion per substantive code of a select_one question (category),
--                  y = 1 when the answer is that code, 0 for another substantive code.
-- category         the answer category of a distribution indicator; '-' for every other indicator.
-- A wave whose source declared another scale for the question (answers stored as top_box / middle_box /
-- bottom_box, mapping `scale:`) counts only in proportions defined as the question's top box or bottom box:
-- y = 1 for the indicator's box, 0 for the other boxes; other indicators of the question skip that wave.
-- stratum, psu, weight  the variance stratum and PSU and the final weight (int_survey_design_units).
--
-- A table, incremental by wave like the estimates it feeds: a view would be recomputed from raw by every
-- data test and by the engine (at 100,000 respondents its tests were most of a run's time); stored, a run
-- computes the waves it (re)loaded (macros/waves_to_build.sql), keeps the others, and tests what it stored.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['source_id', 'wave_id'],
    post_hook="delete from {{ this }} where (source_id, wave_id) not in (select source_id, wave_id from {{ ref('stg_survey__sources') }})",
) }}
-- depends_on: {{ source('raw', 'survey_wave_loads') }}
with

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

questions as (
    select * from {{ ref('stg_registry__questions') }}
),

units as (
    select * from {{ ref('int_survey_design_units') }}
    {% if is_incremental() %}where {{ waves_built_now() }}{% endif %}
),

respondents as (
    select * from {{ ref('stg_survey__respondents') }}
    {% if is_incremental() %}where {{ waves_built_now() }}{% endif %}
),

answers as (
    select * from {{ ref('stg_survey__answers') }}
    {% if is_incremental() %}where {{ waves_built_now() }}{% endif %}
),

-- a survey wave "maps" a question when its source delivered that question at all; on_boxes: its answers
-- are on a declared scale, harmonised onto the question's top and bottom box
mapped_questions as (
    select
        source_id,
        wave_id,
        question_id,
        coalesce(bool_or(answer_code in ('top_box', 'middle_box', 'bottom_box')), false) as on_boxes
    from answers
    group by source_id, wave_id, question_id
),

indicator_waves as (
    select
        i.indicator_id,
        i.indicator_type,
        i.ci_method,
        i.question_id,
        i.success_codes,
        q.choice_codes,
        q.nonresponse_codes,
        q.min_value,
        q.max_value,
        case
            when i.indicator_type <> 'proportion' or len(q.top_box_codes) = 0 then null
            when list_sort(i.success_codes) = list_sort(q.top_box_codes) then 'top_box'
            when list_sort(i.success_codes) = list_sort(q.bottom_box_codes) then 'bottom_box'
        end as success_box,
        m.source_id,
        m.wave_id
    from indicators as i
    inner join questions as q on q.question_id = i.question_id
    inner join mapped_questions as m on m.question_id = i.question_id
    -- a wave on another scale lines up only with the question's top-box and bottom-box indicators
    where not m.on_boxes
        or (
            i.indicator_type = 'proportion'
            and len(q.top_box_codes) > 0
            and list_sort(i.success_codes) in (list_sort(q.top_box_codes), list_sort(q.bottom_box_codes))
        )
),

-- a distribution indicator is estimated once per substantive answer code
indicator_categories as (
    select *, unnest(choice_codes) as category
    from indicator_waves
    where indicator_type = 'distribution'
    union all
    select *, '-' as category
    from indicator_waves
    where indicator_type <> 'distribution'
),

joined as (
    select
        iw.indicator_id,
        iw.indicator_type,
        iw.ci_method,
        iw.question_id,
        iw.category,
        iw.source_id,
        iw.wave_id,
        u.respondent_id,
        u.governorate_pcode,
        u.variance_stratum as stratum,
        u.variance_psu as psu,
        u.weight,
        r.hoh_sex,
        r.urban_rural,
        r.is_synthetic,
        a.answer_code,
        a.answer_numeric,
        case when iw.indicator_type = 'mean' then iw.min_value end as value_min,
        case when iw.indicator_type = 'mean' then iw.max_value end as value_max,
        case
            when iw.indicator_type = 'proportion' then
                case
                    when list_contains(iw.success_codes, a.answer_code) then 1.0
                    when list_contains(iw.choice_codes, a.answer_code) then 0.0
                    when a.answer_code = iw.success_box then 1.0
                    when iw.success_box is not null
                        and a.answer_code in ('top_box', 'middle_box', 'bottom_box') then 0.0
                end
            when iw.indicator_type = 'distribution' then
                case
                    when a.answer_code = iw.category then 1.0
                    when list_contains(iw.choice_codes, a.answer_code) then 0.0
                end
            when iw.indicator_type = 'mean' then a.answer_numeric
        end::double as y,
        coalesce(list_contains(iw.nonresponse_codes, a.answer_code), false) as is_nonresponse_code
    from indicator_categories as iw
    inner join units as u
        on u.source_id = iw.source_id
        and u.wave_id = iw.wave_id
    inner join respondents as r
        on r.source_id = u.source_id
        and r.wave_id = u.wave_id
        and r.respondent_id = u.respondent_id
    left join answers as a
        on a.source_id = u.source_id
        and a.wave_id = u.wave_id
        and a.respondent_id = u.respondent_id
        and a.question_id = iw.question_id
)

select
    indicator_id,
    indicator_type,
    ci_method,
    question_id,
    category,
    source_id,
    wave_id,
    respondent_id,
    governorate_pcode,
    stratum,
    psu,
    weight,
    hoh_sex,
    urban_rural,
    is_synthetic,
    answer_code,
    answer_numeric,
    value_min,
    value_max,
    y,
    y is not null as is_answered,
    y is null and is_nonresponse_code as is_nonresponse,
    case
        when y is not null then 'answered'
        when is_nonresponse_code then 'nonresponse'
        when answer_code is null and answer_numeric is null then 'missing'
        else 'invalid'
    end as answer_status
from joined
