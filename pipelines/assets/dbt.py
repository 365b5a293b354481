"""dbt models as Dagster assets (dagster-dbt); dbt tests become asset checks.

Models are keyed ``[schema, model]`` (``["marts", "fct_service_indicators"]``); sources link to the
ingestion assets through ``meta.dagster.asset_key`` in ``dbt_project/models/staging/_sources.yml``.
After ``dbt build`` the results of every model and test are written to ``audit.dbt_results``.
"""


import hashlib
import os
import shutil
from pathlib import Path
from typing import Any, Mapping

import dagster as dg
import polars as pl
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines.project import dbt_project
from pipelines.resources import MizanPaths
from pipelines.warehouse import (
    SCHEMA_VERSION, connect, ensure_schema, memory_limit, replace_rows, spill_directory, table_exists,
)


#: What the dbt build's results depend on besides the raw rows: the project, the contracts it reads through raw
#: (indicators, question bank, reference tables) and the engine's Python functions.
_BUILD_INPUTS = ("dbt_project/models", "dbt_project/macros", "dbt_project/seeds", "dbt_project/tests",
                 "dbt_project/dbt_project.yml", "data_contracts", "pipelines/dbt_functions.py")
_REPO = Path(__file__).resolve().parents[2]


def build_fingerprint() -> str:
    """SHA-256 over the files in ``_BUILD_INPUTS``: when it differs from the last successful build's
    (``audit.dbt_build_state``), incremental models are rebuilt whole (``--full-refresh``)."""
    h = hashlib.sha256()
    for name in _BUILD_INPUTS:
        root = _REPO / name
        for p in sorted([root] if root.is_file() else root.rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts:
                h.update(p.relative_to(_REPO).as_posix().encode())
                h.update(p.read_bytes())
    return h.hexdigest()


def _last_fingerprint(working: Path) -> str | None:
    with connect(working) as con:
        if not table_exists(con, "audit.dbt_build_state"):
            return None
        row = con.execute("SELECT fingerprint FROM audit.dbt_build_state").fetchone()
    return row[0] if row else None


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
    fingerprint = build_fingerprint()
    full_refresh = _last_fingerprint(working) != fingerprint
    run_env = {
        "MIZAN_RUN_ID": paths.mizan_run_id(),
        "MIZAN_WORKING_WAREHOUSE": str(working),
        "MIZAN_DUCKDB_MEMORY_LIMIT": memory_limit(),
        "MIZAN_DUCKDB_TEMP_DIRECTORY": str(spill_directory(working)),
    }
    before = {k: os.environ.get(k) for k in run_env}
    os.environ.update(run_env)
    try:
        args = ["build", "--full-refresh"] if full_refresh else ["build"]
        context.log.info("dbt: " + ("full build (the project or the contracts changed since the last build)" if full_refresh
                                    else "incremental build: the waves this run loaded"))
        invocation = dbt.cli(args, context=context, raise_on_error=False)  # the process copies the env here
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    yield from invocation.stream()
    results = invocation.get_artifact("run_results.json").get("results", [])
    # dagster-dbt gives every invocation a target folder of its own (manifest, compiled SQL, run results:
    # tens of MB at scale); kept, they would grow with every run ever made. What a run needs is read above.
    shutil.rmtree(invocation.target_path, ignore_errors=True)
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
        if invocation.is_successful():
            con.execute("DELETE FROM audit.dbt_build_state")
            con.execute("INSERT INTO audit.dbt_build_state VALUES (?, ?, now()::TIMESTAMP)", [fingerprint, paths.mizan_run_id()])
            con.execute("DELETE FROM audit.schema_version")
            con.execute("INSERT INTO audit.schema_version VALUES (?, ?, now()::TIMESTAMP)", [SCHEMA_VERSION, paths.mizan_run_id()])
    if not invocation.is_successful():
        failed = [f"{r['unique_id']} ({r['status']}: {r.get('message')})" for r in rows if r["status"] in ("fail", "error")]
        raise dg.Failure(description="dbt build failed: " + "; ".join(failed[:10]))
