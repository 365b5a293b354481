-- Every cell the estimation engine suppressed (or whose status is unknown) reaches the reporting layer
-- without a number: checked against marts.fct_service_indicators, not against the model's own status.
select r.indicator_id, r.source_id, r.wave_id, r.governorate_pcode
from {{ ref('rpt_governorate_estimates') }} as r
inner join {{ ref('fct_service_indicators') }} as f
    on f.indicator_id = r.indicator_id and f.source_id = r.source_id and f.wave_id = r.wave_id
    and f.governorate_pcode = r.governorate_pcode
    and f.disaggregation = 'all' and f.disaggregation_value = 'all'
where coalesce(f.is_suppressed, true)
  and (r.status <> 'suppressed' or r.estimate is not null or r.ci_lower is not null or r.ci_upper is not null
       or r.std_error is not null)
