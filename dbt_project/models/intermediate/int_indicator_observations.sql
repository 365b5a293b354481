-- One row per indicator x respondent of every survey wave whose source maps the indicator's question.
-- Respondents who were not asked / skipped / said "don't know" keep their row (y NULL) so that their
-- PSU stays in the variance step (DESIGN.md "Statistics": item non-response is a domain exclusion,
-- not a row deletion).
with

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

questions as (
    select * from {{ ref('stg_registry__questions') }}
),

respondents as (
    select * from {{ ref('stg_survey__respondents') }}
),

answers as (
    select * from {{ ref('stg_survey__answers') }}
),

-- a survey wave "maps" a question when its source delivered that question at all
mapped_questions as (
    select distinct source_id, wave_id, question_id
    from answers
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
        m.source_id,
        m.wave_id
    from indicators as i
    inner join questions as q on q.question_id = i.question_id
    inner join mapped_questions as m on m.question_id = i.question_id
),

joined as (
    select
        iw.indicator_id,
        iw.indicator_type,
        iw.ci_method,
        iw.question_id,
        iw.source_id,
        iw.wave_id,
        r.respondent_id,
        r.governorate_pcode,
        r.stratum,
        r.psu,
        r.weight,
        r.hoh_sex,
        r.urban_rural,
        r.is_synthetic,
        a.answer_code,
        a.answer_numeric,
        case
            when iw.indicator_type = 'proportion' then
                case
                    when list_contains(iw.success_codes, a.answer_code) then 1.0
                    when list_contains(iw.choice_codes, a.answer_code) then 0.0
                end
            when iw.indicator_type = 'mean' then a.answer_numeric
        end::double as y,
        coalesce(list_contains(iw.nonresponse_codes, a.answer_code), false) as is_nonresponse_code
    from indicator_waves as iw
    inner join respondents as r
        on r.source_id = iw.source_id
        and r.wave_id = iw.wave_id
    left join answers as a
        on a.source_id = r.source_id
        and a.wave_id = r.wave_id
        and a.respondent_id = r.respondent_id
        and a.question_id = iw.question_id
)

select
    indicator_id,
    indicator_type,
    ci_method,
    question_id,
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
