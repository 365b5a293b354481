-- Estimates made from answers on a source's own scale: one row per indicator x source x wave whose source
-- delivered the indicator's question on a scale other than the question bank's (mapping
-- `questions.<q>.scale`, e.g. a 4-point rating), declared onto the question's top and bottom box. Such a wave
-- counts only in the question's top-box and bottom-box indicators (int_indicator_observations); the note says
-- so wherever its estimates are shown ("4-point scale, top box (source codes 1, 2)"). Every estimate without
-- a row here is on the question bank's own scale.
with

answers as (
    select * from {{ ref('stg_survey__answers') }}
),

indicators as (
    select * from {{ ref('stg_registry__indicators') }}
),

questions as (
    select * from {{ ref('stg_registry__questions') }}
),

-- the scale a wave delivered a question on, as ingestion recorded it:
-- "4-point: top box ['1', '2'], middle [], bottom box ['3', '4']"
wave_scales as (
    select
        source_id,
        wave_id,
        question_id,
        min(source_scale) as source_scale,
        count(distinct source_scale) as n_scales
    from answers
    where source_scale is not null and source_scale <> 'canonical'
    group by source_id, wave_id, question_id
),

parsed as (
    select
        *,
        try_cast(regexp_extract(source_scale, '^(\d+)-point', 1) as integer) as scale_points,
        replace(regexp_extract(source_scale, 'top box \[([^\]]*)\]', 1), '''', '') as top_box_source_codes,
        replace(regexp_extract(source_scale, 'middle \[([^\]]*)\]', 1), '''', '') as middle_source_codes,
        replace(regexp_extract(source_scale, 'bottom box \[([^\]]*)\]', 1), '''', '') as bottom_box_source_codes
    from wave_scales
),

-- the box an indicator counts: its success codes are the question's top box or its bottom box
indicator_boxes as (
    select
        i.indicator_id,
        i.question_id,
        case
            when list_sort(i.success_codes) = list_sort(q.top_box_codes) then 'top_box'
            when list_sort(i.success_codes) = list_sort(q.bottom_box_codes) then 'bottom_box'
        end as scale_box
    from indicators as i
    inner join questions as q on q.question_id = i.question_id
    where i.indicator_type = 'proportion' and len(q.top_box_codes) > 0
)

select
    b.indicator_id,
    p.source_id,
    p.wave_id,
    p.question_id,
    p.scale_points,
    b.scale_box,
    case b.scale_box when 'top_box' then p.top_box_source_codes else p.bottom_box_source_codes end
        as source_codes,
    p.source_scale,
    coalesce(p.scale_points::varchar || '-point scale', 'another scale')
        || ', ' || replace(b.scale_box, '_', ' ')
        || ' (source codes '
        || case b.scale_box when 'top_box' then p.top_box_source_codes else p.bottom_box_source_codes end
        || ')'
        || case when p.n_scales > 1 then '; the wave''s files differ in scale' else '' end
        as scale_note
from parsed as p
inner join indicator_boxes as b on b.question_id = p.question_id
where b.scale_box is not null
order by b.indicator_id, p.source_id, p.wave_id
