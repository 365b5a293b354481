"""Property tests of the survey engine: the macro survey_estimates, rendered by dbt (pipelines.engine),
run on designs drawn by hypothesis in an in-memory DuckDB. Cheap (no dbt run per example), and it is the
macro the warehouse runs.

Properties: (1) the estimate and SE equal samplics TaylorEstimator's for every domain, the logit CI
samplics', the Korn-Graubard CI the formula of R svyciprop(method = "beta") written out in the test;
(2) multiplying all weights by a constant changes no estimate, SE, CI, n_eff or design effect;
(3) the order of the rows changes nothing; (4) for df > 1000 the t quantile (Cornish-Fisher) equals
scipy's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from dbt_samplics_oracle import korn_graubard, taylor
from pipelines.engine import SurveyEngine, strata_of

DESIGN_KEYS = ["source_id", "wave_id"]
DOMAIN_KEYS = ["indicator_id", "disaggregation", "disaggregation_value"]
KEY = ["disaggregation", "disaggregation_value"]
COMPARED = ["estimate", "std_error", "ci_lower", "ci_upper", "n_effective", "design_effect", "excluded_share"]


@pytest.fixture(scope="module")
def engine() -> SurveyEngine:
    return SurveyEngine(DESIGN_KEYS, DOMAIN_KEYS)


def run(engine: SurveyEngine, units: pd.DataFrame, estimate_type: str, ci_method: str) -> pd.DataFrame:
    """``units``: one row per unit with stratum, psu, weight, y (NaN = not answered), group (A/B/C),
    nonresponse. Domains: all, and grp = A / B (C is in no group)."""
    obs = []
    for dis, values in (("all", None), ("grp", ("A", "B"))):
        part = units if values is None else units[units["group"].isin(values)]
        obs.append(pd.DataFrame({
            "indicator_id": "ind", "estimate_type": estimate_type, "ci_method": ci_method,
            "source_id": "src", "wave_id": "w", "disaggregation": dis,
            "disaggregation_value": "all" if values is None else part["group"],
            "stratum": part["stratum"], "psu": part["psu"], "weight": part["weight"], "y": part["y"],
            "is_answered": part["y"].notna(), "is_nonresponse": part["nonresponse"],
        }))
    observations = pd.concat(obs, ignore_index=True)
    strata = strata_of(units.assign(source_id="src", wave_id="w"), DESIGN_KEYS)
    return engine.run(observations, strata).set_index(KEY).sort_index()


@st.composite
def designs(draw):
    """A stratified cluster sample: 1-4 strata of 1-4 PSUs (>= 1 stratum with 2+ PSUs), 1-5 units per PSU;
    plus a weight scale factor, a CI method and a seed for a row permutation."""
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
    ci_method = "t" if mean_type else draw(st.sampled_from(["logit", "korn_graubard"]))
    return units, ("mean" if mean_type else "proportion"), ci_method, scale, draw(st.integers(0, 2**32 - 1))


def assert_same(a: pd.DataFrame, b: pd.DataFrame, rtol: float) -> None:
    assert a.index.equals(b.index)
    for col in COMPARED:
        np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=rtol, atol=1e-12,
                                   err_msg=col)
    assert b["is_suppressed"].tolist() == a["is_suppressed"].tolist()
    assert b["ci_method"].tolist() == a["ci_method"].tolist()


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # same examples in every CI run
@given(designs())
def test_engine_matches_samplics_and_is_scale_and_order_invariant(engine, design):
    units, estimate_type, ci_method, scale, seed = design
    out = run(engine, units, estimate_type, ci_method)

    # (2) scale invariance; (3) row order invariance
    assert_same(out, run(engine, units.assign(weight=units["weight"] * scale), estimate_type, ci_method), 1e-9)
    shuffled = units.iloc[np.random.default_rng(seed).permutation(len(units))].reset_index(drop=True)
    assert_same(out, run(engine, shuffled, estimate_type, ci_method), 1e-12)

    # (1) samplics on every domain with at least one answer
    for (dis, value), r in out.iterrows():
        in_domain = np.ones(len(units), bool) if dis == "all" else (units["group"] == value).to_numpy()
        answered = in_domain & units["y"].notna().to_numpy()
        if not answered.any():
            assert r.n_unweighted == 0 and np.isnan(r.estimate)
            continue
        ref = taylor(units["y"].to_numpy(float), units["weight"].to_numpy(float), units["stratum"].to_numpy(),
                     units["psu"].to_numpy(), in_domain, estimate_type)
        assert r.estimate == pytest.approx(ref["estimate"], abs=1e-9)
        assert r.std_error == pytest.approx(ref["std_error"], abs=1e-9)
        assert r.degrees_of_freedom == ref["df"]
        boundary = estimate_type == "proportion" and r.estimate in (0.0, 1.0)
        if r.std_error == 0 and not boundary:
            # no sampling variance could be estimated: no interval, and the cell is suppressed
            assert np.isnan(r.ci_lower) and np.isnan(r.ci_upper) and r.is_suppressed and pd.isna(r.ci_method)
        elif ci_method == "korn_graubard":
            w = units["weight"].to_numpy(float)[answered]
            lo, hi = korn_graubard(r.estimate, r.std_error ** 2, int(answered.sum()), int(ref["df"]),
                                   w.sum() ** 2 / (w ** 2).sum())
            assert r.ci_method == "korn_graubard"
            assert r.ci_lower == pytest.approx(lo, abs=1e-9) and r.ci_upper == pytest.approx(hi, abs=1e-9)
        elif estimate_type == "mean" or not boundary:
            assert r.ci_method == ci_method
            assert r.ci_lower == pytest.approx(ref["ci_lower"], abs=1e-9)
            assert r.ci_upper == pytest.approx(ref["ci_upper"], abs=1e-9)


def test_large_degrees_of_freedom_use_the_cornish_fisher_t_quantile(engine):
    rng = np.random.default_rng(3)
    n = 1502  # one stratum, one unit per PSU: df = 1501 > 1000 (beyond the seed)
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(n)], "stratum": "all", "psu": [f"p{i}" for i in range(n)],
                          "weight": rng.uniform(1, 5, n), "group": "A", "y": rng.integers(0, 2, n).astype(float),
                          "nonresponse": False})
    out = run(engine, units, "proportion", "logit")
    r = out.loc[("all", "all")]
    assert r.degrees_of_freedom == n - 1
    assert r.t_quantile == pytest.approx(stats.t.ppf(0.975, n - 1), abs=1e-12)
    ref = taylor(units["y"].to_numpy(), units["weight"].to_numpy(), units["stratum"].to_numpy(),
                 units["psu"].to_numpy(), np.ones(n, bool), "proportion")
    assert r.ci_lower == pytest.approx(ref["ci_lower"], abs=1e-12)
    assert r.ci_upper == pytest.approx(ref["ci_upper"], abs=1e-12)
    # Korn-Graubard needs t on n - 1 = 1501 as well: beyond the seed, the same expansion
    kg = run(engine, units, "proportion", "korn_graubard").loc[("all", "all")]
    w = units["weight"].to_numpy()
    lo, hi = korn_graubard(kg.estimate, kg.std_error ** 2, n, n - 1, w.sum() ** 2 / (w ** 2).sum())
    assert (kg.ci_lower, kg.ci_upper) == (pytest.approx(lo, abs=1e-12), pytest.approx(hi, abs=1e-12))


def test_mean_interval_is_clipped_to_the_questions_range(engine):
    """Hours per day cannot be negative: a t interval reaching below 0 stops at value_min = 0."""
    units = pd.DataFrame({"unit": [f"u{i}" for i in range(8)], "stratum": "s", "psu": [f"p{i}" for i in range(8)],
                          "weight": 1.0, "group": "A", "y": [0, 0, 0, 0, 0, 0, 1, 5.0], "nonresponse": False})
    obs = pd.DataFrame({"indicator_id": "ind", "estimate_type": "mean", "ci_method": "t", "source_id": "src",
                        "wave_id": "w", "disaggregation": "all", "disaggregation_value": "all",
                        "stratum": units["stratum"], "psu": units["psu"], "weight": units["weight"], "y": units["y"],
                        "is_answered": True, "is_nonresponse": False, "value_min": 0.0, "value_max": 24.0})
    r = engine.run(obs, strata_of(units.assign(source_id="src", wave_id="w"), DESIGN_KEYS)).iloc[0]
    # by hand: mean 6/8 = 0.75; 8 one-unit PSUs in one stratum, scores (y - 0.75)/8, so
    # V = 8/7 * sum((y - 0.75)^2) / 64 with deviations -0.75 (six times), 0.25 and 4.25
    se = np.sqrt(8 / 7 * ((6 * 0.75 ** 2) + 0.25 ** 2 + 4.25 ** 2) / 64)
    t = stats.t.ppf(0.975, 7)
    assert r.estimate == pytest.approx(0.75, abs=1e-12)
    assert r.std_error == pytest.approx(se, abs=1e-12)
    assert 0.75 - t * se < 0  # the plain interval would go below zero
    assert r.ci_lower == 0.0
    assert r.ci_upper == pytest.approx(0.75 + t * se, abs=1e-12)
