-- fct_response_distribution: the shares of every domain with answers add up to 1 (to 1e-9). Returns the
-- domains that do not.
select indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value,
       sum(estimate) as total
from {{ ref('fct_response_distribution') }}
where n_unweighted > 0
group by indicator_id, source_id, wave_id, governorate_pcode, disaggregation, disaggregation_value
having abs(sum(estimate) - 1) > 1e-9
