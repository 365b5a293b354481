"""Jobs. Every job runs in-process (one step at a time: one DuckDB writer) and ends with the publish step.

- ``mizan_full_run``: every source of the landing folder (what ``mizan run`` materialises).
- ``mizan_survey_wave_run`` (partition ``<source>/<wave>``) and ``mizan_budget_year_run`` (fiscal years):
  the delivery record of the partition, then the same load, dbt build and publish. The raw layer is
  rebuilt from the archived files of the sources in the landing folder in seconds, so a partitioned run
  always publishes a consistent warehouse, never half of one.
"""

import dagster as dg

from pipelines.assets.dbt import mizan_dbt_models
from pipelines.assets.ingest import budget_tables, reference_tables, survey_tables
from pipelines.assets.landing import budget_year_files, fiscal_years, survey_wave_files, survey_waves
from pipelines.assets.programme import results_framework, training_tables
from pipelines.assets.publish import published_snapshot

WAREHOUSE_ASSETS = [reference_tables, results_framework, survey_tables, budget_tables, training_tables,
                    mizan_dbt_models, published_snapshot]
_load = dg.AssetSelection.assets(*WAREHOUSE_ASSETS)

full_refresh_job = dg.define_asset_job(
    "mizan_full_run", selection=_load, executor_def=dg.in_process_executor,
    description="Register and load every source of the landing folder, build and test the dbt project, "
    "publish a snapshot when everything passed.",
)
survey_wave_job = dg.define_asset_job(
    "mizan_survey_wave_run", selection=dg.AssetSelection.assets(survey_wave_files) | _load,
    partitions_def=survey_waves, executor_def=dg.in_process_executor,
    description="A survey wave was delivered (or corrected): record its files, load, build, test, publish.",
)
budget_year_job = dg.define_asset_job(
    "mizan_budget_year_run", selection=dg.AssetSelection.assets(budget_year_files) | _load,
    partitions_def=fiscal_years, executor_def=dg.in_process_executor,
    description="A budget file was delivered (or corrected): record its fiscal years, load, build, test, publish.",
)
