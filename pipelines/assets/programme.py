"""The programme's own records as Dagster assets: the training cohorts (landing folder ``DIR/training/``)
and the results framework (``data_contracts/results_framework.yaml``).

Training sources load like survey and budget sources (registration by SHA-256, archive, mapping,
quarantine, row accounting: :mod:`pipelines.assets.ingest`); the framework is validated and written whole
on every run, so a published snapshot always carries the framework version its progress rows were made with.
"""

import dagster as dg

from data_contracts.results_framework import FrameworkError, framework_tables
from pipelines.assets.ingest import POOL, _ingest_domain, _key
from pipelines.resources import MizanPaths
from pipelines.warehouse import connect, ensure_schema, replace_table

TRAINING_TABLES = ["training_participants", "training_attendance", "training_sources"]
FRAMEWORK_TABLES = ["results_framework_results", "results_framework_indicators", "results_framework_targets"]


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="ingestion", kinds={"duckdb", "polars"}) for t in TRAINING_TABLES],
    pool=POOL,
    description="Training participant records (one row per participant x cohort) through each source's "
    "mapping; names, phones and e-mails dropped before loading; second registrations in a track, bad "
    "attendance and scores quarantined.",
)
def training_tables(context: dg.AssetExecutionContext, paths: MizanPaths):
    if not (paths.data_path() / "training").is_dir():
        # a landing folder without training/ keeps the training rows the warehouse has
        with connect(paths.working_path()) as con:
            ensure_schema(con)
            counts = {t: con.execute(f"SELECT count(*) FROM raw.{t}").fetchone()[0] for t in TRAINING_TABLES}
        for t in TRAINING_TABLES:
            yield dg.MaterializeResult(asset_key=_key(t), metadata={"rows": counts[t]})
        return
    yield from _ingest_domain(context, paths, "training", TRAINING_TABLES)


@dg.multi_asset(
    specs=[dg.AssetSpec(_key(t), group_name="reference", kinds={"duckdb"}) for t in FRAMEWORK_TABLES],
    pool=POOL,
    description="The results framework (goal, outcomes, outputs; per indicator baseline, targets per period "
    "and governorate, direction, responsible unit) from data_contracts/results_framework.yaml, validated.",
)
def results_framework(context: dg.AssetExecutionContext, paths: MizanPaths):
    try:
        tables = framework_tables()
    except FrameworkError as exc:
        raise dg.Failure(description=str(exc)) from None
    with connect(paths.working_path()) as con:
        ensure_schema(con)
        counts = {t: replace_table(con, f"raw.{t}", frame) for t, frame in tables.items()}
    for t in FRAMEWORK_TABLES:
        yield dg.MaterializeResult(asset_key=_key(t), metadata={"rows": counts[t]})
