"""The landing-folder sensor: a new or changed file launches a partitioned run for its wave or fiscal years.

Every 30 seconds it lists the mapped sources' files in the landing folder (``$MIZAN_DATA_DIR``), hashes
the files whose size or modification time changed since the last tick (the cursor), and requests one
run per new content: survey files run ``mizan_survey_wave_run`` for ``<source>/<wave>`` (the wave's
dynamic partition is added first), budget files run ``mizan_budget_year_run`` for the range of fiscal
years the file holds. Files whose SHA-256 the current snapshot has already registered start nothing, so
turning the sensor on over a loaded folder launches no run. Run keys are the file hashes: the same
content never launches twice.
"""

from __future__ import annotations

import json
from pathlib import Path

import dagster as dg

from pipelines.assets.landing import landing_files, registered_hashes, survey_waves
from pipelines.ingest.common import FatalSourceError
from pipelines.jobs import budget_year_job, survey_wave_job
from pipelines.readers.delimited import sha256_of
from pipelines.resources import MizanPaths


def landing_requests(data_dir: Path, warehouse: Path, cursor: dict) -> tuple[list[dg.RunRequest], list[str], dict]:
    """What the sensor would do: run requests, new wave partition keys, and the next cursor.

    The cursor maps a file path to ``[mtime_ns, size, sha256]``.
    """
    known = registered_hashes(warehouse)
    requests, new_waves, nxt = [], [], {}
    for f in landing_files(data_dir):
        path = Path(f["path"])
        st = path.stat()
        prev = cursor.get(str(path))
        if prev and prev[0] == st.st_mtime_ns and prev[1] == st.st_size:
            nxt[str(path)] = prev
            continue
        sha = sha256_of(path)
        nxt[str(path)] = [st.st_mtime_ns, st.st_size, sha]
        if sha in known or (prev and prev[2] == sha) or not f["partitions"]:
            continue
        tags = {"mizan/file": path.name, "mizan/sha256": sha}
        if f["domain"] == "survey":
            key = f["partitions"][0]
            new_waves.append(key)
            requests.append(dg.RunRequest(run_key=f"{key}:{sha}", job_name="mizan_survey_wave_run", partition_key=key, tags=tags))
        else:
            years = f["partitions"]
            tags |= {"dagster/asset_partition_range_start": years[0], "dagster/asset_partition_range_end": years[-1]}
            requests.append(dg.RunRequest(run_key=f"budget:{sha}", job_name="mizan_budget_year_run", tags=tags))
    return requests, sorted(set(new_waves)), nxt


@dg.sensor(
    name="landing_folder_sensor",
    minimum_interval_seconds=30,
    jobs=[survey_wave_job, budget_year_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Launches a run for each new or changed file in the landing folder ($MIZAN_DATA_DIR).",
)
def landing_folder_sensor(context: dg.SensorEvaluationContext, paths: MizanPaths):
    cursor = json.loads(context.cursor) if context.cursor else {}
    try:
        requests, waves, nxt = landing_requests(paths.data_path(), paths.warehouse_path(), cursor)
    except FatalSourceError as exc:  # no landing folder (yet): say so on the tick, try again later
        return dg.SkipReason(str(exc))
    context.update_cursor(json.dumps(nxt))
    existing = set(context.instance.get_dynamic_partitions(survey_waves.name)) if waves else set()
    add = [w for w in waves if w not in existing]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[survey_waves.build_add_request(add)] if add else [],
    )
