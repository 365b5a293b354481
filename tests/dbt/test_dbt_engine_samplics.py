"""The dbt survey engine (marts.fct_service_indicators, marts.fct_response_distribution) against samplics
TaylorEstimator, to 1e-9.

The simulated survey (raw_fixtures.simulate_cluster_survey) has five strata in two governorates, one of
them a single-PSU stratum, unequal weights, clusters, skipped questions, missing answer rows, "don't know"
and "prefer not to answer", hoh_sex and displacement-status domains that cut across PSUs, and a numeric
(mean) question. The same sample is estimated under each single-PSU rule (samplics SinglePSUEst.skip,
.certainty, .combine). raw_fixtures.national_survey covers all 19 governorates, so national (IQ) estimates
exist, with and without post-stratification to the governorates' population.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from samplics.utils.types import SinglePSUEst

import raw_fixtures
from dbt_samplics_oracle import korn_graubard, oracle, survey_frame, taylor

TOL = 1e-9
QUESTIONS = {q["question_id"]: q for q in raw_fixtures.QUESTIONS}

# source -> samplics design arguments that reproduce the source's single-PSU rule
DESIGNS = {
    "sim_hh_2024": {"single_psu": SinglePSUEst.skip},
    "skewed_case": {"single_psu": SinglePSUEst.skip},
    "sim_hh_2024_certainty": {"single_psu": SinglePSUEst.certainty},
    "sim_hh_2024_combine": {"single_psu": SinglePSUEst.combine, "strata_comb": raw_fixtures.EXPLICIT_COMBINE},
    # no strata named in the mapping: the single-PSU stratum baghdad_rural joins the nearest stratum of its
    # governorate with 2+ PSUs before it in name order, baghdad_peri (int_survey_design_units)
    "sim_hh_2024_autocombine": {"single_psu": SinglePSUEst.combine, "strata_comb": {"baghdad_rural": "baghdad_peri"}},
    "sim_national": {"single_psu": SinglePSUEst.skip},
    "sim_national_ps": {"single_psu": SinglePSUEst.skip},
}


def post_stratified_weights(survey) -> np.ndarray:
    """By hand: w * N_g / sum of w in governorate g, N_g = test population in 2024 (fieldwork year)."""
    resp = pd.DataFrame(survey.respondents)
    totals = resp.groupby("governorate_pcode")["weight"].transform("sum")
    pop = resp["governorate_pcode"].map(lambda g: raw_fixtures.population(g, 2024))
    return (resp["weight"] * pop / totals).to_numpy()


def _check(row, ref, ind, label) -> None:
    assert row.estimate == pytest.approx(ref["estimate"], abs=TOL, rel=0), label
    assert row.std_error == pytest.approx(ref["std_error"], abs=TOL, rel=0), label
    assert row.degrees_of_freedom == ref["df"], label
    # samplics gives the logit interval for proportions and estimate -/+ t SE for means, t on the
    # design df; a proportion with ci_method t (Wald-t) has no samplics counterpart
    if (row.ci_method == "logit" and 0 < row.estimate < 1) or ind["indicator_type"] == "mean":
        if ind["indicator_type"] == "mean":  # clipped to the question's range 0-24
            ref = {**ref, "ci_lower": max(ref["ci_lower"], 0.0), "ci_upper": min(ref["ci_upper"], 24.0)}
        assert row.ci_lower == pytest.approx(ref["ci_lower"], abs=TOL, rel=0), label
        assert row.ci_upper == pytest.approx(ref["ci_upper"], abs=TOL, rel=0), label


@pytest.mark.parametrize("source_id", list(DESIGNS))
def test_estimates_and_standard_errors_match_samplics(dbt_warehouse, source_id):
    rows = dbt_warehouse.query(
        "select * from marts.fct_service_indicators where source_id = ? order by all", [source_id])
    survey = dbt_warehouse.surveys[source_id]
    weight = post_stratified_weights(survey) if source_id.endswith("_ps") else None
    assert len(rows) > 0
    checked = 0
    for r in rows.itertuples():
        if r.n_unweighted == 0:  # a domain with no answers: nothing to estimate (samplics has no cell)
            assert math.isnan(r.estimate) and math.isnan(r.std_error)
            checked += 1
            continue
        ind = raw_fixtures.INDICATORS_BY_ID[r.indicator_id]
        ref = oracle(survey, ind, QUESTIONS[ind["question_id"]], r.governorate_pcode, r.disaggregation,
                     r.disaggregation_value, weight=weight, **DESIGNS[source_id])
        _check(r, ref, ind, f"{r.indicator_id} {r.governorate_pcode} {r.disaggregation}={r.disaggregation_value}")
        checked += 1
    assert checked == len(rows)


@pytest.mark.parametrize("source_id", ["sim_hh_2024", "sim_national"])
def test_every_share_of_a_distribution_matches_samplics(dbt_warehouse, source_id):
    rows = dbt_warehouse.query(
        "select * from marts.fct_response_distribution where source_id = ? order by all", [source_id])
    survey = dbt_warehouse.surveys[source_id]
    ind = raw_fixtures.INDICATORS_BY_ID["water_service_distribution"]
    assert set(rows["choice_code"]) == set(raw_fixtures.RATING_5)
    for r in rows.itertuples():
        ref = oracle(survey, ind, QUESTIONS[ind["question_id"]], r.governorate_pcode, r.disaggregation,
                     r.disaggregation_value, category=r.choice_code)
        _check(r, ref, ind, f"{r.choice_code} {r.governorate_pcode} {r.disaggregation}={r.disaggregation_value}")
    totals = rows.groupby(["governorate_pcode", "disaggregation", "disaggregation_value"])["estimate"].sum()
    np.testing.assert_allclose(totals.to_numpy(), 1.0, atol=1e-12)


def test_korn_graubard_intervals(dbt_warehouse):
    """The Korn-Graubard interval of every cell equals R svyciprop(method = "beta") written out in the test
    (dbt_samplics_oracle.korn_graubard), with samplics' estimate and SE."""
    rows = dbt_warehouse.query("select * from marts.fct_service_indicators where indicator_id = "
                               "'water_problem_reported_kg' and ci_lower is not null and source_id <> "
                               "'sim_national_ps' order by all")
    assert set(rows["ci_method"]) == {"korn_graubard"} and len(rows) > 10
    ind = raw_fixtures.INDICATORS_BY_ID["water_problem_reported_kg"]
    for r in rows.itertuples():
        survey = dbt_warehouse.surveys[r.source_id]
        frame = survey_frame(survey, ind, QUESTIONS[ind["question_id"]])
        domain = (frame["governorate_pcode"].eq(r.governorate_pcode) | (r.governorate_pcode == "IQ"))
        if r.disaggregation != "all":
            domain &= frame[r.disaggregation].eq(r.disaggregation_value)
        answered = (domain & frame["y"].notna()).to_numpy()
        ref = taylor(frame["y"].to_numpy(), frame["weight"].to_numpy(), frame["stratum"].to_numpy(),
                     frame["psu"].to_numpy(), domain.to_numpy(), "proportion",
                     **DESIGNS.get(r.source_id, {"single_psu": SinglePSUEst.skip}))
        w = frame["weight"].to_numpy()[answered]
        lo, hi = korn_graubard(ref["estimate"], ref["std_error"] ** 2, int(answered.sum()), int(ref["df"]),
                               w.sum() ** 2 / (w ** 2).sum())
        label = f"{r.source_id} {r.governorate_pcode} {r.disaggregation}={r.disaggregation_value}"
        assert r.ci_lower == pytest.approx(lo, abs=TOL) and r.ci_upper == pytest.approx(hi, abs=TOL), label
    # the boundary survey has p = 0 and p = 1 cells: Korn-Graubard still gives them a width
    edge = dbt_warehouse.query("select * from marts.fct_service_indicators where source_id = 'boundary_case' "
                               "and indicator_id = 'water_problem_reported_kg' and disaggregation = 'all'")
    assert set(edge["estimate"]) == {0.0, 1.0}
    for r in edge.itertuples():
        assert r.ci_upper - r.ci_lower > 0.05 and r.ci_method == "korn_graubard"


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
    fct = dbt_warehouse.query("select * from marts.fct_service_indicators where source_id = 'sim_hh_2024'")
    assert set(fct["disaggregation"]) == {"all", "hoh_sex", "displacement_status", "urban_rural"}
    assert set(fct.loc[fct.disaggregation == "displacement_status", "disaggregation_value"]) == {
        "idp", "returnee", "non_displaced"}
    assert {"mean", "proportion"} <= {raw_fixtures.INDICATORS_BY_ID[i]["indicator_type"] for i in fct["indicator_id"]}
    assert (fct["excluded_share"] > 0).any()
    waves = dbt_warehouse.query("select * from marts.dim_wave").set_index("source_id")
    # certainty_units: the single PSU's 6-12 households become PSUs; combine: one stratum fewer
    certainty, combine = waves.loc["sim_hh_2024_certainty"], waves.loc["sim_hh_2024_combine"]
    assert certainty.n_singleton_strata == 0 and certainty.n_psu > design.n_psu + 4
    assert (combine.n_strata, combine.n_psu, combine.n_singleton_strata) == (4, design.n_psu, 0)
    assert waves.loc["sim_national", "has_national_estimates"] and not waves.loc["sim_hh_2024", "has_national_estimates"]


def test_every_psu_of_the_wave_stays_in_the_variance(dbt_warehouse):
    """Dropping the PSUs without a domain member (the classic error) changes the SE: the engine must not."""
    survey = dbt_warehouse.surveys["sim_hh_2024"]
    ind = raw_fixtures.INDICATORS_BY_ID["water_service_poor"]
    row = dbt_warehouse.query(
        "select * from marts.fct_service_indicators where source_id = 'sim_hh_2024' and indicator_id = "
        "'water_service_poor' and governorate_pcode = 'IQG15' and disaggregation = 'displacement_status' "
        "and disaggregation_value = 'idp'"
    ).iloc[0]
    frame = survey_frame(survey, ind, QUESTIONS[ind["question_id"]])
    in_domain = (frame["governorate_pcode"] == "IQG15") & (frame["displacement_status"] == "idp") & frame["y"].notna()
    sub = frame[in_domain]  # filtering to the domain before the variance step
    gov_psus = frame.loc[frame["governorate_pcode"] == "IQG15", "psu"].nunique()
    assert sub["psu"].nunique() < gov_psus  # some PSUs of the governorate have no member of the domain
    wrong = taylor(sub["y"].to_numpy(), sub["weight"].to_numpy(), sub["stratum"].to_numpy(), sub["psu"].to_numpy(),
                   np.ones(len(sub), dtype=bool), "proportion")
    assert row.estimate == pytest.approx(wrong["estimate"], abs=TOL)
    assert not math.isclose(row.std_error, wrong["std_error"], rel_tol=1e-6)
