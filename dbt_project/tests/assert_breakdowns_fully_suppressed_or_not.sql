-- Complementary suppression (fct_service_indicators): within a breakdown of one indicator, source, wave and
-- governorate, either no group is suppressed or every group is, so no hidden value can be derived from
-- the total and the published groups. Returns the offending breakdowns.
select indicator_id, source_id, wave_id, governorate_pcode, disaggregation
from {{ ref('fct_service_indicators') }}
where disaggregation <> 'all'
group by indicator_id, source_id, wave_id, governorate_pcode, disaggregation
having bool_or(is_suppressed) and not bool_and(is_suppressed)
