"""The survey engine's SQL outside the warehouse build: for tests, the coverage study and the benchmark.

The engine is the dbt macro ``survey_estimates`` (``dbt_project/macros/survey_estimates.sql``). This module
renders that very macro with dbt (``dbt compile --inline``, the project's vars unless overridden) for any
design and domain keys, and runs it in an in-memory DuckDB on data frames. Nothing here estimates anything
itself: it only feeds the macro.

    engine = SurveyEngine(design_keys=["sample_id"], domain_keys=["indicator_id", "domain"])
    estimates = engine.run(observations, strata)        # pandas in, pandas out

``observations`` follows the macro's input contract (one row per unit x domain: design and domain keys,
estimate_type, ci_method, stratum, psu, weight, y, is_answered, is_nonresponse; value_min / value_max
optional). ``strata`` has the design keys, ``stratum`` and ``n_psu`` (PSUs of the stratum over the whole
design, every unit counted); :func:`strata_of` builds it from one row per unit.

Raises:
    EngineCompileError: dbt could not render the macro (the message carries dbt's output).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Sequence

import duckdb
import pandas as pd
import pyarrow as pa

from pipelines import dbt_functions
from pipelines.project import DBT_PROJECT_DIR

T_QUANTILES_SEED = DBT_PROJECT_DIR / "seeds" / "t_quantiles.csv"
OPTIONAL_COLUMNS = {"value_min": None, "value_max": None}


class EngineCompileError(RuntimeError):
    """dbt failed to render the engine macro."""


def _dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"


@functools.lru_cache(maxsize=32)
def compile_engine_sql(design_keys: tuple[str, ...], domain_keys: tuple[str, ...],
                       vars_json: str = "{}") -> str:
    """The macro rendered for relations named ``observations``, ``strata`` and ``t_quantiles``.

    ``vars_json``: dbt vars to override (JSON object), e.g. ``'{"suppression_min_n": 50}'``.
    """
    call = (
        "{{ survey_estimates(observations='observations', strata='strata', "
        f"design_keys={list(design_keys)!r}, domain_keys={list(domain_keys)!r}, t_quantiles='t_quantiles') }}}}"
    )
    with tempfile.TemporaryDirectory(prefix="mizan_engine_") as tmp:
        env = {**os.environ, "MIZAN_WORKING_WAREHOUSE": str(Path(tmp) / "compile.duckdb"),
               "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
        cmd = [_dbt_executable(), "compile", "--inline", call, "--quiet", "--vars", vars_json,
               "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
               "--target-path", str(Path(tmp) / "target"), "--log-path", str(Path(tmp) / "logs")]
        proc = subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=300)
    sql = proc.stdout.strip()
    if proc.returncode != 0 or "_se_obs" not in sql:
        raise EngineCompileError(f"dbt compile --inline failed (exit {proc.returncode}):\n{proc.stdout[-3000:]}"
                                 f"\n{proc.stderr[-3000:]}")
    return sql


def strata_of(units: pd.DataFrame, design_keys: Sequence[str]) -> pd.DataFrame:
    """The strata relation from one row per unit (columns ``design_keys``, ``stratum``, ``psu``)."""
    return (units.groupby([*design_keys, "stratum"], as_index=False)
            .agg(n_psu=("psu", "nunique")))


class SurveyEngine:
    """The engine macro rendered once for ``design_keys`` / ``domain_keys``, run on data frames."""

    def __init__(self, design_keys: Sequence[str], domain_keys: Sequence[str], vars: dict | None = None,
                 threads: int | None = None):
        self.design_keys = tuple(design_keys)
        self.domain_keys = tuple(domain_keys)
        self.sql = compile_engine_sql(self.design_keys, self.domain_keys, json.dumps(vars or {}, sort_keys=True))
        self.threads = threads

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection with the engine's functions and the t-quantile seed."""
        con = duckdb.connect()
        if self.threads:
            con.execute(f"SET threads = {int(self.threads)}")
        dbt_functions.register(con)
        con.execute("CREATE TABLE t_quantiles AS SELECT df::INTEGER AS df, t_975::DOUBLE AS t_975 "
                    f"FROM read_csv('{T_QUANTILES_SEED}', header = true)")
        return con

    def run(self, observations: pd.DataFrame, strata: pd.DataFrame,
            con: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
        """Estimates, one row per design x domain key combination (the macro's output columns).

        The frames go to DuckDB as Arrow tables: DuckDB scans pandas' arrow-backed text columns (the
        default ``str`` dtype of pandas 3) about ten times slower than an Arrow table.
        """
        missing = {c: d for c, d in OPTIONAL_COLUMNS.items() if c not in observations.columns}
        obs = pa.Table.from_pandas(observations.assign(**missing) if missing else observations, preserve_index=False)
        own = con is None
        con = con or self.connect()
        try:
            con.register("observations_df", obs)
            con.register("strata_df", pa.Table.from_pandas(strata, preserve_index=False))
            con.execute("CREATE OR REPLACE TEMP TABLE observations AS SELECT * REPLACE ("
                        "y::DOUBLE AS y, weight::DOUBLE AS weight, value_min::DOUBLE AS value_min, "
                        "value_max::DOUBLE AS value_max) FROM observations_df")
            con.execute("CREATE OR REPLACE TEMP TABLE strata AS SELECT * REPLACE (n_psu::BIGINT AS n_psu) "
                        "FROM strata_df")
            return con.execute(self.sql).df()
        finally:
            con.unregister("observations_df")
            con.unregister("strata_df")
            if own:
                con.close()
