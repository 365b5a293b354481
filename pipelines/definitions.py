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

from pipelines.assets.landing import budget_year_files, survey_wave_files
from pipelines.jobs import WAREHOUSE_ASSETS, budget_year_job, full_refresh_job, survey_wave_job
from pipelines.project import dbt_project
from pipelines.resources import MizanDbtCliResource, MizanPaths
from pipelines.sensors import landing_folder_sensor

#: What ``mizan run`` materialises (a whole run); the landing partitions are for sensor-launched runs.
ALL_ASSETS = WAREHOUSE_ASSETS


def build_resources(data_dir: str | None = None, warehouse: str | None = None, **paths_config) -> dict:
    """Resources for a run: the paths (landing folder, warehouse pointer, run options), and dbt pointed at
    the project (the working file comes from ``$MIZAN_WORKING_WAREHOUSE``, set by MizanPaths)."""
    config = dict(paths_config)
    if data_dir:
        config["data_dir"] = data_dir
    if warehouse:
        config["warehouse"] = warehouse
    # the virtualenv's dbt, whatever PATH says (dg may start the code server without the venv on PATH)
    candidates = [Path(sys.executable).with_name("dbt"), Path(sys.prefix) / "bin" / "dbt",
                  Path(__file__).resolve().parents[1] / ".venv" / "bin" / "dbt"]
    dbt_exe = next((c for c in candidates if c.exists()), candidates[0])
    return {
        "paths": MizanPaths(**config),
        "dbt": MizanDbtCliResource(project_dir=dbt_project, dbt_executable=str(dbt_exe) if dbt_exe.exists() else "dbt"),
    }


defs = dg.Definitions(
    assets=[survey_wave_files, budget_year_files, *ALL_ASSETS],
    jobs=[full_refresh_job, survey_wave_job, budget_year_job],
    sensors=[landing_folder_sensor],
    resources=build_resources(),
    executor=dg.in_process_executor,
)
