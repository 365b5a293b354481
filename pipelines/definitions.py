"""The Dagster code location of mizan: ingestion assets, dbt assets (with dbt tests as asset checks), the
publish step, the landing-folder sensor, resources.

Open it with ``dg dev`` (or ``dagster dev -m pipelines.definitions``). ``$MIZAN_DATA_DIR`` and
``$MIZAN_WAREHOUSE`` choose the landing folder and the warehouse (README: running on your own files).
One writer: every job runs in-process (one step at a time), every asset sits in the ``mizan_warehouse``
concurrency pool, and the MizanPaths resource holds the warehouse's writer lock for the whole run.
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.assets.dbt import mizan_dbt_models
from pipelines.assets.ingest import budget_tables, reference_tables, survey_tables
from pipelines.assets.publish import published_snapshot
from pipelines.project import dbt_project
from pipelines.resources import MizanPaths

ALL_ASSETS = [reference_tables, survey_tables, budget_tables, mizan_dbt_models, published_snapshot]

full_refresh_job = dg.define_asset_job(
    "mizan_full_run",
    selection=dg.AssetSelection.assets(*ALL_ASSETS),
    executor_def=dg.in_process_executor,
    description="Register and load every source of the landing folder, build and test the dbt project, "
    "publish a snapshot when everything passed.",
)


def build_resources(data_dir: str | None = None, warehouse: str | None = None, **paths_config) -> dict:
    """Resources for a run: the paths (landing folder, warehouse pointer, run options), and dbt pointed at
    the project (the working file comes from ``$MIZAN_WORKING_WAREHOUSE``, set by MizanPaths)."""
    config = dict(paths_config)
    if data_dir:
        config["data_dir"] = data_dir
    if warehouse:
        config["warehouse"] = warehouse
    dbt_exe = Path(sys.executable).with_name("dbt")  # the virtualenv's dbt, whatever PATH says
    return {
        "paths": MizanPaths(**config),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_exe) if dbt_exe.exists() else "dbt"),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[full_refresh_job],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
