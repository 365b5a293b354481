"""The dbt survey engine (marts.fct_service_indicators) against samplics TaylorEstimator, to 1e-9.

The simulated survey (raw_fixtures.simulate_cluster_survey) has five strata in two governorates, one of
them a single-PSU stratum, unequal weights, clusters, skipped questions, missing answer rows, "don't know"
and "prefer not to answer", hoh_sex domains that cut across PSUs, and a numeric (mean) question.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import raw_fixtures
from dbt_samplics_oracle import oracle, survey_frame, taylor

TOL = 1e-9
QUESTIONS = {q["question_id"]: q for q in raw_fixtures.QUESTIONS}


def _rows(dbt_warehouse, source_id: str):
    return dbt_warehouse.query(
        "select * from marts.fct_service_indicators where source_id = ? order by all", [source_id]
    )


@pytest.mark.parametrize("source_id", ["sim_hh_2024", "skewed_case"])
def test_estimates_and_standard_errors_match_samplics(dbt_warehouse, source_id):
    rows = _rows(dbt_warehouse, source_id)
    survey = dbt_warehouse.surveys[source_id]
    assert len(rows) > 0
    checked = 0
    for r in rows.itertuples():
        if r.n_unweighted == 0:  # a domain with no answers: nothing to estimate (samplics has no cell)
            assert math.isnan(r.estimate) and math.isnan(r.std_error)
            checked += 1
            continue
        ind = raw_fixtures.INDICATORS_BY_ID[r.indicator_id]
        ref = oracle(survey, ind, QUESTIONS[ind["question_id"]], r.governorate_pcode, r.disaggregation,
                     r.disaggregation_value)
        label = f"{r.indicator_id} {r.governorate_pcode} {r.disaggregation}={r.disaggregation_value}"
        assert r.estimate == pytest.approx(ref["estimate"], abs=TOL, rel=0), label
        assert r.std_error == pytest.approx(ref["std_error"], abs=TOL, rel=0), label
        assert r.degrees_of_freedom == ref["df"], label
        # samplics gives the logit interval for proportions and estimate -/+ t SE for means, t on the
        # design df; a proportion with ci_method t (Wald-t) has no samplics counterpart
        if (r.ci_method == "logit" and 0 < r.estimate < 1) or ind["indicator_type"] == "mean":
            assert r.ci_lower == pytest.approx(ref["ci_lower"], abs=TOL, rel=0), label
            assert r.ci_upper == pytest.approx(ref["ci_upper"], abs=TOL, rel=0), label
        checked += 1
    assert checked == len(rows)


def test_simulated_design_has_the_features_under_test(dbt_warehouse):
    """Guard against a fixture that silently stops exercising the hard cases."""
    design = dbt_warehouse.query("select * from marts.dim_wave where source_id = 'sim_hh_2024'").iloc[0]
    assert design.n_singleton_strata == 1
    assert design.n_strata == 5
    assert design.degrees_of_freedom == design.n_psu - design.n_strata
    obs = dbt_warehouse.query(
        "select answer_status, count(*) n from intermediate.int_indicator_observations "
        "where source_id = 'sim_hh_2024' and indicator_id = 'water_service_good' group by all"
    ).set_index("answer_status")["n"]
    assert obs["missing"] > 0 and obs["nonresponse"] > 0 and obs["answered"] > 0
    fct = _rows(dbt_warehouse, "sim_hh_2024")
    assert set(fct["disaggregation"]) == {"all", "hoh_sex"}
    assert {"mean", "proportion"} <= {raw_fixtures.INDICATORS_BY_ID[i]["indicator_type"] for i in fct["indicator_id"]}
    assert (fct["excluded_share"] > 0).any()


def test_every_psu_of_the_wave_stays_in_the_variance(dbt_warehouse):
    """Dropping the PSUs without a domain member (the classic error) changes the SE: the engine must not."""
    survey = dbt_warehouse.surveys["sim_hh_2024"]
    ind = raw_fixtures.INDICATORS_BY_ID["water_service_good"]
    row = dbt_warehouse.query(
        "select * from marts.fct_service_indicators where source_id = 'sim_hh_2024' and indicator_id = "
        "'water_service_good' and governorate_pcode = 'IQG15' and disaggregation = 'hoh_sex' "
        "and disaggregation_value = 'female'"
    ).iloc[0]
    frame = survey_frame(survey, ind, QUESTIONS[ind["question_id"]])
    in_domain = (frame["governorate_pcode"] == "IQG15") & (frame["hoh_sex"] == "female") & frame["y"].notna()
    sub = frame[in_domain]  # filtering to the domain before the variance step
    wrong = taylor(sub["y"].to_numpy(), sub["weight"].to_numpy(), sub["stratum"].to_numpy(), sub["psu"].to_numpy(),
                   np.ones(len(sub), dtype=bool), "proportion")
    assert row.estimate == pytest.approx(wrong["estimate"], abs=TOL)
    assert not math.isclose(row.std_error, wrong["std_error"], rel_tol=1e-6)
