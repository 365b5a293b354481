"""dbt models as Dagster assets (dagster-dbt); dbt tests become asset checks.

Models are keyed ``[schema, model]`` (``["marts", "fct_service_indicators"]``); sources link to the
ingestion assets through ``meta.dagster.asset_key`` in ``dbt_project/models/staging/_sources.yml``.
After ``dbt build`` the results of every model and test are written to ``audit.dbt_results``.
"""


import os
from typing import Any, Mapping

import dagster as dg
import polars as pl
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.project import dbt_project
from pipelines.resources import MizanPaths
from pipelines.warehouse import connect, ensure_schema, memory_limit, replace_rows, spill_directory


class MizanDbtTranslator(DagsterDbtTranslator):
    """Asset keys ``[schema, name]`` for models and seeds; group by layer."""

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: Any) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["nodes"].get(unique_id)
        if node and node["resource_type"] in ("model", "seed", "snapshot"):
            return spec.replace_attributes(key=dg.AssetKey([node["schema"], node["name"]]), group_name=node["schema"])
        return spec


@dbt_assets(
    manifest=dbt_project.manifest_path,
    pool="mizan_warehouse",
    project=dbt_project,
    dagster_dbt_translator=MizanDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)),
)
def mizan_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, paths: MizanPaths):
    """Seed, run and test the dbt project on the run's working file (``dbt build``; the profile reads
    ``$MIZAN_WORKING_WAREHOUSE``, set to the working file for the dbt process only)."""
    working = paths.working_path()
    run_env = {
        "MIZAN_WORKING_WAREHOUSE": str(working),
        "MIZAN_DUCKDB_MEMORY_LIMIT": memory_limit(),
        "MIZAN_DUCKDB_TEMP_DIRECTORY": str(spill_directory(working)),
    }
    before = {k: os.environ.get(k) for k in run_env}
    os.environ.update(run_env)
    try:
        invocation = dbt.cli(["build"], context=context, raise_on_error=False)  # the process copies the env here
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield from invocation.stream()
    results = invocation.get_artifact("run_results.json").get("results", [])
    rows = [
        {
            "run_id": paths.mizan_run_id(),
            "unique_id": r["unique_id"],
            "resource_type": r["unique_id"].split(".")[0],
            "name": r["unique_id"].split(".")[-1] if r["unique_id"].startswith("test.") else r["unique_id"].split(".")[-1],
            "status": str(r.get("status")),
            "failures": r.get("failures"),
            "message": r.get("message"),
            "execution_time": r.get("execution_time"),
        }
        for r in results
    ]
    with connect(paths.working_path()) as con:
        ensure_schema(con)
        replace_rows(con, "audit.dbt_results", {"run_id": paths.mizan_run_id()},
                     pl.DataFrame(rows, schema_overrides={"failures": pl.Int64, "execution_time": pl.Float64}))
    if not invocation.is_successful():
        failed = [f"{r['unique_id']} ({r['status']}: {r.get('message')})" for r in rows if r["status"] in ("fail", "error")]
        raise dg.Failure(description="dbt build failed: " + "; ".join(failed[:10]))
