"""The last asset of every run: publish the working file as the new immutable snapshot.

It depends on every dbt model (and through them on the ingestion assets), so Dagster runs it only when
the pandera contracts and every dbt test of severity error passed; otherwise it is skipped and the
pointer keeps naming the last good snapshot (pipelines/publish.py, docs/publishing.md).
"""

import dagster as dg

from pipelines import publish as pub
from pipelines.assets.dbt import mizan_dbt_models
from pipelines.resources import MizanPaths
from pipelines.runlog import RUN_LOG_COLUMNS, record_from
from pipelines.warehouse import ensure_schema

WAREHOUSE_POOL = "mizan_warehouse"


def insert_run_log(con, records: list[dict]) -> None:
    """Append records (journal lines or fresh records) to ``audit.run_log``."""
    sql = f"INSERT INTO audit.run_log ({', '.join(RUN_LOG_COLUMNS)}) VALUES ({', '.join('?' for _ in RUN_LOG_COLUMNS)})"
    for r in records:
        values = [r.get(c) for c in RUN_LOG_COLUMNS]
        values = [v.isoformat() if hasattr(v, "isoformat") else v for v in values]
        con.execute(sql, values)


def publish_working(paths: MizanPaths, kind: str = "run", record_extra: dict | None = None) -> dict:
    """Write the run's record into its working file, publish it, journal it. Returns the sidecar + record."""
    layout, run_id = paths.layout(), paths.mizan_run_id()
    journal = pub.read_journal(layout.pointer)

    def on_publish(con, name, published_at):
        ensure_schema(con)
        known = {r[0] for r in con.execute("SELECT run_id FROM audit.run_log").fetchall()}
        earlier = [j for j in journal if j.get("run_id") not in known]
        record = record_from(con, run_id, paths.started_at(), str(paths.data_path()) if kind == "run" else None,
                             "published", snapshot=name, kind=kind)
        record.update(record_extra or {})
        insert_run_log(con, [*earlier, record])
        return record

    meta = pub.publish(layout, paths.working_path(), run_id, kind=kind, keep=paths.keep_snapshots, on_publish=on_publish)
    pub.append_journal(layout, meta["record"])
    return meta


@dg.asset(
    key=dg.AssetKey(["warehouse", "published_snapshot"]),
    deps=list(mizan_dbt_models.keys),
    group_name="publish",
    kinds={"duckdb"},
    pool=WAREHOUSE_POOL,
    description="The run's working DuckDB file published as an immutable snapshot; the warehouse pointer "
    "is replaced atomically and old snapshots pruned. Runs only when every upstream step passed.",
)
def published_snapshot(context: dg.AssetExecutionContext, paths: MizanPaths) -> dg.MaterializeResult:
    meta = publish_working(paths)
    context.log.info(f"published {meta['snapshot']} (run {meta['run_id']})")
    return dg.MaterializeResult(metadata={
        "snapshot": meta["snapshot"], "run_id": meta["run_id"], "sha256": meta["sha256"],
        "published_at": meta["published_at"], "bytes": meta["bytes"],
    })
