"""The Dagster code location of mizan: ingestion assets, dbt assets (with dbt tests as asset checks), resources.

Open it with ``dg dev`` (or ``dagster dev -m pipelines.definitions``). ``$MIZAN_DATA_DIR`` and
``$MIZAN_WAREHOUSE`` choose the landing folder and the warehouse (README: running on your own files).
"""

from __future__ import annotations

import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from pipelines.assets.dbt import mizan_dbt_models
from pipelines.assets.ingest import budget_tables, reference_tables, survey_tables
from pipelines.project import dbt_project
from pipelines.resources import MizanPaths

ALL_ASSETS = [reference_tables, survey_tables, budget_tables, mizan_dbt_models]

#: One writer at a time: DuckDB allows a single writing process, so every run executes in-process.
full_refresh_job = dg.define_asset_job(
    "mizan_full_run",
    selection=dg.AssetSelection.all(),
    executor_def=dg.in_process_executor,
    description="Load every source of the landing folder, then build and test the dbt project.",
)


def build_resources(data_dir: str | None = None, warehouse: str | None = None) -> dict:
    """Resources for a run: the paths, and dbt pointed at the project (the warehouse comes from the env)."""
    paths = MizanPaths(data_dir=data_dir) if data_dir else MizanPaths()
    if warehouse:
        paths = MizanPaths(data_dir=paths.data_dir, warehouse=warehouse)
    dbt_exe = Path(sys.executable).with_name("dbt")  # the virtualenv's dbt, whatever PATH says
    return {
        "paths": paths,
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_exe) if dbt_exe.exists() else "dbt"),
    }


defs = dg.Definitions(
    assets=ALL_ASSETS,
    jobs=[full_refresh_job],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
