-- Complementary suppression (int_indicator_cells): no hidden value can be derived from published ones.
-- A margin (an area's total with the groups of one breakdown; the national estimate with the governorates)
-- never hides exactly one of its cells while a group is published; the estimates from one question in one
-- domain (answer categories, indicators on the same answers) are hidden all or none. Returns the offending
-- margins.
with cells as (
    select c.*, i.question_id
    from {{ ref('int_indicator_cells') }} as c
    inner join {{ ref('stg_registry__indicators') }} as i using (indicator_id)
),

breakdown_totals as (
    select indicator_id, category, source_id, wave_id, governorate_pcode, is_suppressed as total_hidden
    from cells
    where disaggregation = 'all'
),

national_totals as (
    select indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value,
        is_suppressed as total_hidden
    from cells
    where governorate_pcode = 'IQ'
)

select 'breakdown' as margin, indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation,
       null as disaggregation_value
from cells
inner join breakdown_totals using (indicator_id, category, source_id, wave_id, governorate_pcode)
where disaggregation <> 'all'
group by indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation, total_hidden
having count(*) filter (where is_suppressed) + total_hidden::int = 1 and count(*) filter (where not is_suppressed) > 0

union all

select 'national', indicator_id, category, source_id, wave_id, null, disaggregation, disaggregation_value
from cells
inner join national_totals using (indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value)
where governorate_pcode <> 'IQ'
group by indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value, total_hidden
having count(*) filter (where is_suppressed) + total_hidden::int = 1 and count(*) filter (where not is_suppressed) > 0

union all

select 'question', question_id, null, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
from cells
group by question_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
having bool_or(is_suppressed) and not bool_and(is_suppressed)
