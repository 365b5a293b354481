-- Goal, outcomes and outputs of the results framework.
select framework_version, result_id, level, parent_id, name_en, name_ar, sort_order
from {{ source('programme', 'results_framework_results') }}
