"""Property tests of the engine's SQL: the SQL dbt compiled for int_indicator_estimates (the macro
survey_estimates) is run on designs drawn by hypothesis, in an in-memory DuckDB laid out like the
warehouse. Cheap (no dbt run per example), and it is the very SQL the warehouse runs.

Properties: (1) the estimate and SE equal samplics TaylorEstimator's for every domain; (2) multiplying
all weights by a constant changes no estimate, SE, CI, n_eff or design effect; (3) for df > 1000 the
t quantile (Cornish-Fisher) equals scipy's.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

import raw_fixtures
from dbt_samplics_oracle import taylor

OBS_COLUMNS = ["indicator_id", "estimate_type", "ci_method", "source_id", "wave_id", "governorate_pcode",
               "disaggregation", "disaggregation_value", "respondent_id", "stratum", "psu", "weight", "y",
               "is_answered", "is_nonresponse", "is_synthetic"]


class EngineSQL:
    """Runs the compiled int_indicator_estimates SQL on hand-made inputs."""

    def __init__(self, compiled_sql: str, database: str):
        self.sql = compiled_sql
        self.database = database

    def run(self, units: pd.DataFrame, estimate_type: str, ci_method: str) -> pd.DataFrame:
        """``units``: one row per unit with stratum, psu, weight, y (NaN = not answered), group (A/B)."""
        obs = []
        for dis, values in (("all", None), ("grp", ("A", "B"))):
            part = units if values is None else units[units["group"].isin(values)]
            obs.append(pd.DataFrame({
                "indicator_id": "ind", "estimate_type": estimate_type, "ci_method": ci_method,
                "source_id": "src", "wave_id": "w", "governorate_pcode": "IQG01", "disaggregation": dis,
                "disaggregation_value": "all" if values is None else part["group"],
                "respondent_id": part["unit"], "stratum": part["stratum"], "psu": part["psu"],
                "weight": part["weight"], "y": part["y"], "is_answered": part["y"].notna(),
                "is_nonresponse": part["nonresponse"], "is_synthetic": False,
            }))
        observations = pd.concat(obs, ignore_index=True)[OBS_COLUMNS]
        strata = (units.groupby("stratum")
                  .agg(n_psu=("psu", "nunique"), n_respondents=("unit", "size"), sum_weight=("weight", "sum"))
                  .reset_index().assign(source_id="src", wave_id="w"))
        t_csv = raw_fixtures.DBT_PROJECT_DIR / "seeds" / "t_quantiles.csv"
        con = duckdb.connect()
        try:
            db = self.database
            con.execute(f"ATTACH ':memory:' AS \"{db}\"")
            for schema in ("intermediate", "seeds"):
                con.execute(f'CREATE SCHEMA "{db}".{schema}')
            con.register("obs_df", observations)
            con.register("strata_df", strata)
            con.execute(f'CREATE TABLE "{db}".intermediate.int_indicator_domain_observations AS '
                        "SELECT * REPLACE (y::DOUBLE AS y) FROM obs_df")
            con.execute(f'CREATE TABLE "{db}".intermediate.int_survey_strata AS '
                        "SELECT source_id, wave_id, stratum, n_psu::BIGINT AS n_psu, n_respondents, sum_weight FROM strata_df")
            con.execute(f'CREATE TABLE "{db}".seeds.t_quantiles AS '
                        f"SELECT df::INTEGER AS df, t_975::DOUBLE AS t_975 FROM read_csv('{t_csv}', header = true)")
            return con.execute(self.sql).df()
        finally:
            con.close()


@pytest.fixture(scope="module")
def engine(dbt_warehouse) -> EngineSQL:
    sql = (dbt_warehouse.compiled_dir / "intermediate" / "int_indicator_estimates.sql").read_text()
    return EngineSQL(sql, dbt_warehouse.path.stem)


@st.composite
def designs(draw):
    """A stratified cluster sample: 1-4 strata of 1-4 PSUs (>= 1 stratum with 2+ PSUs), 1-5 units per PSU."""
    n_strata = draw(st.integers(1, 4))
    psus = [draw(st.integers(1, 4)) for _ in range(n_strata)]
    if max(psus) < 2:
        psus[0] = 2
    mean_type = draw(st.booleans())
    rows = []
    for h, n_psu in enumerate(psus):
        for k in range(n_psu):
            for _ in range(draw(st.integers(1, 5))):
                answered = draw(st.integers(0, 9)) > 1  # ~20 % not answered
                # means > 0: samplics divides by the estimate (coefficient of variation)
                y = (draw(st.floats(0.5, 24, allow_nan=False)) if mean_type else float(draw(st.integers(0, 1)))) \
                    if answered else np.nan
                rows.append({"unit": f"u{len(rows)}", "stratum": f"h{h}", "psu": f"h{h}p{k}",
                             "weight": draw(st.floats(0.1, 100, allow_nan=False)),
                             "group": draw(st.sampled_from(["A", "B", "C"])),  # C: in no group domain
                             "y": y, "nonresponse": (not answered) and draw(st.booleans())})
    units = pd.DataFrame(rows)
    scale = draw(st.sampled_from([1e-3, 0.37, 7.0, 1234.5]))
    return units, ("mean" if mean_type else "proportion"), scale


KEY = ["disaggregation", "disaggregation_value"]


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # same examples in every CI run
@given(designs())
def test_engine_sql_matches_samplics_and_is_scale_invariant(engine, design):
    units, estimate_type, scale = design
    ci_method = "t" if estimate_type == "mean" else "logit"
    out = engine.run(units, estimate_type, ci_method).set_index(KEY).sort_index()
    scaled = engine.run(units.assign(weight=units["weight"] * scale), estimate_type, ci_method).set_index(KEY).sort_index()

    # (2) scale invariance
    assert out.index.equals(scaled.index)
    for col in ["estimate", "std_error", "ci_lower", "ci_upper", "n_effective", "design_effect", "excluded_share"]:
        np.testing.assert_allclose(scaled[col].to_numpy(float), out[col].to_numpy(float), rtol=1e-9, atol=1e-12,
                                   err_msg=col)
    assert scaled["is_suppressed"].tolist() == out["is_suppressed"].tolist()

    # (1) samplics on every domain with at least one answer
    for (dis, value), r in out.iterrows():
        in_domain = np.ones(len(units), bool) if dis == "all" else (units["group"] == value).to_numpy()
        if not (in_domain & units["y"].notna().to_numpy()).any():
            assert r.n_unweighted == 0 and np.isnan(r.estimate)
            continue
        ref = taylor(units["y"].to_numpy(float), units["weight"].to_numpy(float), units["stratum"].to_numpy(),
                     units["psu"].to_numpy(), in_domain, estimate_type)
        assert r.estimate == pytest.approx(ref["estimate"], abs=1e-9)
        assert r.std_error == pytest.approx(ref["std_error"], abs=1e-9)
        assert r.degrees_of_freedom == ref["df"]
        if r.std_error == 0 and not (estimate_type == "proportion" and r.estimate in (0.0, 1.0)):
            # no sampling variance could be estimated: no interval, and the cell is suppressed
            assert np.isnan(r.ci_lower) and np.isnan(r.ci_upper) and r.is_suppressed
        elif estimate_type == "mean" or 0 < r.estimate < 1:
            assert r.ci_lower == pytest.approx(ref["ci_lower"], abs=1e-9)
            assert r.ci_upper == pytest.approx(ref["ci_upper"], abs=1e-9)


def test_large_degrees_of_freedom_use_the_cornish_fisher_t_quantile(engine):
    rng = np.random.default_rng(3)
    n = 1502  # one stratum, one unit per PSU: df = 1501 > 1000 (beyond the seed)
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(n)], "stratum": "all", "psu": [f"p{i}" for i in range(n)],
                          "weight": rng.uniform(1, 5, n), "group": "A", "y": rng.integers(0, 2, n).astype(float),
                          "nonresponse": False})
    out = engine.run(units, "proportion", "logit")
    r = out[out.disaggregation == "all"].iloc[0]
    assert r.degrees_of_freedom == n - 1
    assert r.t_quantile == pytest.approx(stats.t.ppf(0.975, n - 1), abs=1e-12)
    ref = taylor(units["y"].to_numpy(), units["weight"].to_numpy(), units["stratum"].to_numpy(),
                 units["psu"].to_numpy(), np.ones(n, bool), "proportion")
    assert r.ci_lower == pytest.approx(ref["ci_lower"], abs=1e-12)
    assert r.ci_upper == pytest.approx(ref["ci_upper"], abs=1e-12)
