-- The results framework's indicators (data_contracts/results_framework.yaml), one row each.
select
    framework_version,
    indicator_id,
    result_id,
    level,
    kind,
    source_id,
    measure,
    track,
    name_en,
    name_ar,
    unit,
    direction,
    formula_version,
    responsible_unit,
    baseline_value,
    baseline_period,
    baseline_source,
    sort_order
from {{ source('programme', 'results_framework_indicators') }}
