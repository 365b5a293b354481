-- Complementary suppression (int_indicator_cells): no margin hides exactly one of its groups, so no hidden
-- value can be derived from its total and the published groups; a distribution is hidden whole or not at
-- all. Returns the offending margins.
with cells as (
    select * from {{ ref('int_indicator_cells') }}
)

select 'breakdown' as margin, indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation,
       null as disaggregation_value
from cells
where disaggregation <> 'all'
group by indicator_id, category, source_id, wave_id, governorate_pcode, disaggregation
having count(*) filter (where is_suppressed) = 1 and count(*) >= 2

union all

select 'national', indicator_id, category, source_id, wave_id, null, disaggregation, disaggregation_value
from cells
inner join (
    select distinct indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value
    from cells where governorate_pcode = 'IQ'
) as national using (indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value)
where governorate_pcode <> 'IQ'
group by indicator_id, category, source_id, wave_id, disaggregation, disaggregation_value
having count(*) filter (where is_suppressed) = 1 and count(*) >= 2

union all

select 'categories', indicator_id, null, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
from cells
where category <> '-'
group by indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
having bool_or(is_suppressed) and not bool_and(is_suppressed)
