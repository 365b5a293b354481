"""The last asset of every run: publish the working file as the new immutable snapshot.

It depends on every ingestion asset and every dbt model, so Dagster runs it only when
the pandera contracts and every dbt test of severity error passed; otherwise it is skipped and the
pointer keeps naming the last good snapshot (pipelines/publish.py, docs/publishing.md).
"""

import dagster as dg

from pipelines.assets.dbt import mizan_dbt_models
from pipelines.assets.ingest import budget_tables, reference_tables, survey_tables
from pipelines.resources import MizanPaths
from pipelines.runlog import publish_run

WAREHOUSE_POOL = "mizan_warehouse"


@dg.asset(
    key=dg.AssetKey(["warehouse", "published_snapshot"]),
    # every upstream asset, not only dbt's: a failed step anywhere in the run's selection means no publish
    deps=[*reference_tables.keys, *survey_tables.keys, *budget_tables.keys, *mizan_dbt_models.keys],
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="The run's working DuckDB file published as an immutable snapshot; the warehouse pointer "
    "is replaced atomically and old snapshots pruned. Runs only when every upstream step passed.",
)
def published_snapshot(context: dg.AssetExecutionContext, paths: MizanPaths) -> dg.MaterializeResult:
    meta = publish_run(
        paths.layout(), paths.mizan_run_id(), paths.started_at(), str(paths.data_path()), keep=paths.keep_snapshots
    )
    context.log.info(f"published {meta['snapshot']} (run {meta['run_id']})")
    return dg.MaterializeResult(metadata={
        "snapshot": meta["snapshot"], "run_id": meta["run_id"], "sha256": meta["sha256"],
        "published_at": meta["published_at"], "bytes": meta["bytes"],
    })
