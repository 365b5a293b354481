"""Suppression and reliability flags, boundary proportions, df <= 0, domains and weight-scale invariance."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml

import raw_fixtures

KEYS = ["indicator_id", "wave_id", "governorate_pcode", "disaggregation", "disaggregation_value"]


@pytest.fixture(scope="module")
def fct(dbt_warehouse) -> pd.DataFrame:
    return dbt_warehouse.query("select * from marts.fct_service_indicators")


@pytest.fixture(scope="module")
def project_vars() -> dict:
    return yaml.safe_load((raw_fixtures.DBT_PROJECT_DIR / "dbt_project.yml").read_text())["vars"]


def test_vars_are_the_documented_defaults(project_vars):
    assert project_vars == {"suppression_min_n": 30, "suppression_min_n_eff": 30,
                            "unreliable_ci_width": 0.30, "unreliable_relative_width": 1.30,
                            "single_psu_rule": "skip", "extreme_weight_ratio": 10, "cpi_base_year": 2023,
                            "wave_scoped_test_models": ["int_indicator_observations", "int_indicator_domain_observations"]}


def test_suppression_rule_on_every_row(fct, project_vars):
    min_n, min_neff = project_vars["suppression_min_n"], project_vars["suppression_min_n_eff"]

    def primary(r) -> list[str]:
        reasons = []
        if r.n_unweighted == 0:
            reasons.append("no answers in domain")
        if r.degrees_of_freedom <= 0:
            reasons.append("degrees of freedom <= 0")
        if 0 < r.n_unweighted < min_n:
            reasons.append(f"n < {min_n}")
        if r.n_effective < min_neff:
            reasons.append(f"effective n < {min_neff}")
        proportion = raw_fixtures.INDICATORS_BY_ID[r.indicator_id]["indicator_type"] == "proportion"
        if r.std_error == 0 and not (proportion and r.estimate in (0.0, 1.0)):
            reasons.append("no sampling variance (SE = 0: single-PSU strata only, or no variation)")
        return reasons

    complementary = 0
    for r in fct.itertuples():
        reasons = primary(r)
        if reasons:
            assert r.is_suppressed and r.suppression_reason == "; ".join(reasons), r
        elif r.is_suppressed:
            # hidden only to protect another hidden cell of the same margin
            assert r.suppression_reason.startswith("complementary suppression"), r
            complementary += 1
        else:
            assert pd.isna(r.suppression_reason), r
    assert complementary > 0  # the simulated designs have a breakdown and a national margin with one small group

    # no margin hides exactly one of its cells while a group is published: an area's total with the groups
    # of one breakdown, the national estimate with the governorates; one question's estimates in one domain
    # are hidden all or none
    def leaks(groups: pd.DataFrame, totals: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
        g = groups.groupby(keys).agg(hidden=("is_suppressed", "sum"),
                                     published=("is_suppressed", lambda s: (~s).sum())).reset_index()
        m = g.merge(totals.rename(columns={"is_suppressed": "total_hidden"}))  # on the total's keys
        assert len(m) > 0  # national: only waves with an IQ estimate
        return m[(m.hidden + m.total_hidden.astype(int) == 1) & (m.published > 0)]

    area = ["indicator_id", "source_id", "wave_id", "governorate_pcode"]
    breakdown = leaks(fct[fct.disaggregation != "all"], fct[fct.disaggregation == "all"][area + ["is_suppressed"]],
                      area + ["disaggregation"])
    assert breakdown.empty, breakdown
    value = ["indicator_id", "source_id", "wave_id", "disaggregation", "disaggregation_value"]
    totals = fct[fct.governorate_pcode == "IQ"]
    assert len(totals) > 0
    national = leaks(fct[fct.governorate_pcode != "IQ"], totals[value + ["is_suppressed"]], value)
    assert national.empty, national
    question = fct.assign(question_id=fct.indicator_id.map(
        lambda i: raw_fixtures.INDICATORS_BY_ID[i]["question_id"])).groupby(
        ["question_id", "source_id", "wave_id", "governorate_pcode", "disaggregation", "disaggregation_value"]
    )["is_suppressed"]
    assert (question.all() | ~question.any()).all()


def test_national_margin_hides_the_smallest_other_governorate(fct):
    """sim_national: Halabja (n = 12) is suppressed for being small; its value would follow from the national
    estimate and the 18 published governorates, so the governorate with the smallest n is hidden too."""
    rows = fct[(fct.source_id == "sim_national") & (fct.indicator_id == "water_problem_reported")
               & (fct.disaggregation == "all")].set_index("governorate_pcode")
    assert not rows.loc["IQ"].is_suppressed
    assert rows.loc["IQG19"].suppression_reason == "n < 30; effective n < 30"
    govs = rows.drop(index=["IQ", "IQG19"])
    hidden = govs[govs.is_suppressed]
    assert len(hidden) == 1
    smallest = govs.sort_values(["n_unweighted"], kind="stable").index[0]
    assert hidden.index[0] == smallest
    assert hidden.iloc[0].suppression_reason.startswith("complementary suppression: another governorate")


def test_unreliable_rule_on_every_row(fct, project_vars):
    width_max, rel_max = project_vars["unreliable_ci_width"], project_vars["unreliable_relative_width"]
    for r in fct.itertuples():
        proportion = raw_fixtures.INDICATORS_BY_ID[r.indicator_id]["indicator_type"] == "proportion"
        if math.isnan(r.ci_lower):
            expected = True
        else:
            width = r.ci_upper - r.ci_lower
            boundary = proportion and r.estimate in (0.0, 1.0)
            expected = (
                (r.std_error == 0 and not boundary)
                or (proportion and width >= width_max)
                or (width > 0 if r.estimate == 0 else width / abs(r.estimate) > rel_max)
            )
        assert r.is_unreliable == expected, r


def test_some_rows_are_shown_and_some_suppressed(fct):
    sim = fct[fct.source_id == "sim_hh_2024"]
    assert (~sim.is_suppressed).sum() > 0 and sim.is_suppressed.sum() > 0
    assert (~sim.is_suppressed & ~sim.is_unreliable).sum() > 0
    assert (~sim.is_suppressed & sim.is_unreliable).sum() > 0


def test_effective_n_alone_suppresses(fct):
    r = fct[(fct.source_id == "skewed_case") & (fct.indicator_id == "water_problem_reported")].iloc[0]
    assert r.n_unweighted == 40
    assert r.n_effective == pytest.approx(1039.0**2 / (1000.0**2 + 39), rel=1e-12)
    assert r.is_suppressed and r.suppression_reason == "effective n < 30"


def test_domain_without_answers_is_kept_and_suppressed(fct):
    r = fct[(fct.source_id == "skewed_case") & (fct.governorate_pcode == "IQG14")
            & (fct.indicator_id == "water_problem_reported")].iloc[0]
    assert r.n_unweighted == 0
    assert math.isnan(r.estimate) and math.isnan(r.std_error) and math.isnan(r.ci_lower)
    assert math.isnan(r.excluded_share)  # nobody answered at all (skipped): undefined, not 0
    assert r.is_suppressed and r.suppression_reason == "no answers in domain"
    assert r.is_unreliable


def _kish(weights) -> float:
    w = np.asarray(weights, dtype=float)
    return w.sum() ** 2 / (w**2).sum()


@pytest.mark.parametrize("indicator_id", ["water_problem_reported", "water_problem_reported_wald"])
def test_boundary_proportions_get_clopper_pearson_at_effective_n(dbt_warehouse, fct, indicator_id):
    survey = dbt_warehouse.surveys["boundary_case"]
    rows = fct[(fct.source_id == "boundary_case") & (fct.indicator_id == indicator_id)].set_index("governorate_pcode")
    for gov, p in (("IQG01", 1.0), ("IQG02", 0.0)):
        r = rows.loc[gov]
        n_eff = _kish([x["weight"] for x in survey.respondents if x["governorate_pcode"] == gov])
        assert r.estimate == p and r.std_error == 0.0
        assert r.n_effective == pytest.approx(n_eff, rel=1e-12)
        assert r.ci_method == "clopper_pearson_neff"
        if p == 1.0:
            assert (r.ci_lower, r.ci_upper) == (pytest.approx(0.025 ** (1 / n_eff), abs=1e-12), 1.0)
        else:
            assert (r.ci_lower, r.ci_upper) == (0.0, pytest.approx(1 - 0.025 ** (1 / n_eff), abs=1e-12))
        assert r.ci_upper - r.ci_lower > 0.05  # a real width, not the [p, p] of a Wald or logit interval
        assert not r.is_suppressed
    assert not rows.loc["IQG01"].is_unreliable       # width 7 points, relative width 7 %
    assert rows.loc["IQG02"].is_unreliable           # estimate 0: relative width is infinite
    assert math.isnan(rows.loc["IQG01"].design_effect)


def test_no_degrees_of_freedom_means_no_ci_and_suppressed(fct):
    r = fct[(fct.source_id == "df_zero_case") & (fct.indicator_id == "water_problem_reported")].iloc[0]
    assert r.degrees_of_freedom == 0
    assert r.n_unweighted == 45 and r.n_effective >= 30
    assert math.isnan(r.ci_lower) and math.isnan(r.ci_upper) and math.isnan(r.std_error)
    assert pd.isna(r.ci_method)
    assert r.is_suppressed and r.suppression_reason == "degrees of freedom <= 0"
    assert r.is_unreliable
    assert r.estimate == pytest.approx(_df0_estimate(), abs=1e-12)


def _df0_estimate() -> float:
    s = raw_fixtures.df_zero_survey()
    w = {r["respondent_id"]: r["weight"] for r in s.respondents}
    yes = sum(w[a["respondent_id"]] for a in s.answers if a["answer_code"] == "yes")
    return yes / sum(w.values())


def test_wald_t_interval_for_proportions_is_clipped_symmetric(dbt_warehouse, fct):
    t_table = pd.read_csv(raw_fixtures.DBT_PROJECT_DIR / "seeds" / "t_quantiles.csv").set_index("df")["t_975"]
    rows = fct[(fct.indicator_id == "water_problem_reported_wald") & (fct.ci_method == "t")]
    assert len(rows) >= 3
    for r in rows.itertuples():
        t = t_table[r.degrees_of_freedom]
        assert r.ci_lower == pytest.approx(max(0.0, r.estimate - t * r.std_error), abs=1e-12)
        assert r.ci_upper == pytest.approx(min(1.0, r.estimate + t * r.std_error), abs=1e-12)
    assert (rows.ci_lower == 0.0).any()  # the skewed case clips at 0


def test_domains(fct):
    sim = fct[fct.source_id == "sim_hh_2024"]
    # every (indicator, governorate) has the `all` domain, and a breakdown for each attribute the indicator
    # lists among its disaggregations (respondents whose value is unknown are in `all` only)
    expected_values = {"hoh_sex": {"female", "male"}, "urban_rural": {"urban", "rural"},
                       "displacement_status": {"idp", "returnee", "non_displaced"}}
    for (ind, gov), g in sim.groupby(["indicator_id", "governorate_pcode"]):
        values = set(zip(g.disaggregation, g.disaggregation_value))
        expected = {("all", "all")}
        for dis in raw_fixtures.INDICATORS_BY_ID[ind]["disaggregations"]:
            if dis != "all":
                present = {v for r in raw_fixtures.simulate_cluster_survey("sim_hh_2024").respondents
                           if r["governorate_pcode"] == gov and (v := r.get(dis)) is not None}
                assert present <= expected_values[dis]
                expected |= {(dis, v) for v in present}
        assert values == expected, (ind, gov)
    # a source with hoh_sex unknown has no hoh_sex domains
    assert set(fct[fct.source_id == "boundary_case"].disaggregation) == {"all"}
    # governorates are the respondents' governorates; no national domain for a survey of two governorates
    assert set(sim.governorate_pcode) == {"IQG08", "IQG15"}
    # a survey of all 19 governorates also has the national domain IQ, with every respondent in it
    national = fct[(fct.source_id == "sim_national") & (fct.governorate_pcode == "IQ")
                   & (fct.indicator_id == "water_problem_reported")]
    govs = fct[(fct.source_id == "sim_national") & (fct.governorate_pcode != "IQ")
               & (fct.indicator_id == "water_problem_reported")]
    assert len(national) == 1 and national.n_unweighted.iloc[0] == govs.n_unweighted.sum()


def test_multiplying_weights_by_a_constant_changes_nothing(fct):
    """sim_hh_2024_x37 is sim_hh_2024 with every weight x 37.25 (DESIGN.md property)."""
    a = fct[fct.source_id == "sim_hh_2024"].set_index(KEYS).sort_index()
    b = fct[fct.source_id == "sim_hh_2024_x37"].set_index(KEYS).sort_index()
    assert a.index.equals(b.index) and len(a) > 10
    for col in ["estimate", "std_error", "ci_lower", "ci_upper", "n_effective", "design_effect", "excluded_share"]:
        np.testing.assert_allclose(b[col].to_numpy(float), a[col].to_numpy(float), rtol=1e-10, atol=1e-13,
                                   err_msg=col)
    for col in ["ci_method", "degrees_of_freedom", "n_unweighted", "is_suppressed", "suppression_reason",
                "is_unreliable"]:
        assert b[col].fillna("-").tolist() == a[col].fillna("-").tolist(), col
