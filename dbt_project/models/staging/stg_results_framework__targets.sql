-- Targets of the results framework: one row per indicator x area (IQ = national) x period.
select framework_version, indicator_id, governorate_pcode, period, target_value
from {{ source('programme', 'results_framework_targets') }}
