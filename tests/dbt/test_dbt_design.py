"""The design the variance uses (int_survey_design_units): single-PSU rules stated per estimate,
post-stratification to governorate population, extreme-weight flags, and the rules of a snapshot
(marts.dim_estimation_rules)."""

from __future__ import annotations

import shutil

import duckdb
import numpy as np
import pytest

import raw_fixtures

KEYS = ["indicator_id", "governorate_pcode", "disaggregation", "disaggregation_value"]


def test_every_estimate_states_its_single_psu_rule(dbt_warehouse):
    fct = dbt_warehouse.query("select source_id, single_psu_rule, governorate_pcode, n_singleton_strata "
                              "from marts.fct_service_indicators where disaggregation = 'all' and "
                              "indicator_id = 'water_problem_reported'")
    rule = fct.groupby("source_id")["single_psu_rule"].agg(set)
    assert rule["sim_hh_2024"] == {"skip"} and rule["sim_hh_2024_certainty"] == {"certainty_units"}
    assert rule["sim_hh_2024_combine"] == rule["sim_hh_2024_autocombine"] == {"combine"}
    singles = fct.set_index(["source_id", "governorate_pcode"])["n_singleton_strata"]
    # Baghdad (IQG08) holds the single-PSU stratum baghdad_rural: skipped under `skip`, gone under the others
    assert singles["sim_hh_2024", "IQG08"] == 1 and singles["sim_hh_2024", "IQG15"] == 0
    assert singles["sim_hh_2024_certainty", "IQG08"] == 0 and singles["sim_hh_2024_combine", "IQG08"] == 0


def test_combine_rule_joins_the_named_or_the_nearest_stratum(dbt_warehouse):
    units = dbt_warehouse.query(
        "select source_id, stratum, any_value(variance_stratum) as variance_stratum from "
        "intermediate.int_survey_design_units where source_id like 'sim_hh_2024%' and stratum = 'baghdad_rural' "
        "group by all").set_index("source_id")["variance_stratum"]
    assert units["sim_hh_2024"] == "baghdad_rural"
    assert units["sim_hh_2024_combine"] == "baghdad_urban"      # named in the mapping (strata_combine)
    assert units["sim_hh_2024_autocombine"] == "baghdad_peri"   # nearest stratum of Baghdad with 2+ PSUs


def test_estimates_that_no_rule_touches_are_equal_under_every_rule(dbt_warehouse):
    """Ninewa (IQG15) has no single-PSU stratum: its estimates are the same whatever the rule."""
    fct = dbt_warehouse.query("select * from marts.fct_service_indicators where source_id like 'sim_hh_2024%' "
                              "and source_id <> 'sim_hh_2024_x37' and governorate_pcode = 'IQG15'")
    base = fct[fct.source_id == "sim_hh_2024"].set_index(KEYS).sort_index()
    for source in ("sim_hh_2024_certainty", "sim_hh_2024_combine"):
        other = fct[fct.source_id == source].set_index(KEYS).sort_index()
        np.testing.assert_allclose(other["estimate"].to_numpy(float), base["estimate"].to_numpy(float), atol=1e-12)
        np.testing.assert_allclose(other["std_error"].to_numpy(float), base["std_error"].to_numpy(float), atol=1e-12)


def test_post_stratified_weights_add_up_to_the_population(dbt_warehouse):
    units = dbt_warehouse.query("select governorate_pcode, sum(weight) as w, sum(design_weight) as dw, "
                                "min(post_stratification_factor) as f, max(post_stratification_factor) as f2 "
                                "from intermediate.int_survey_design_units where source_id = 'sim_national_ps' "
                                "group by all").set_index("governorate_pcode")
    for gov, r in units.iterrows():
        assert r.w == pytest.approx(raw_fixtures.population(gov, 2024), rel=1e-12), gov
        assert r.f == r.f2 == pytest.approx(raw_fixtures.population(gov, 2024) / r.dw, rel=1e-12)
    plain = dbt_warehouse.query("select distinct post_stratification_factor as f from "
                                "intermediate.int_survey_design_units where source_id = 'sim_national'")
    assert plain.f.tolist() == [1.0]


def test_post_stratification_changes_national_not_governorate_estimates(dbt_warehouse):
    """Scaling the weights of a governorate by one factor leaves its own estimates and SEs unchanged; the
    national estimate moves, because governorates now count by population."""
    fct = dbt_warehouse.query("select * from marts.fct_service_indicators where source_id in "
                              "('sim_national', 'sim_national_ps')")
    a = fct[fct.source_id == "sim_national"].set_index(KEYS).sort_index()
    b = fct[fct.source_id == "sim_national_ps"].set_index(KEYS).sort_index()
    govs = a.index.get_level_values("governorate_pcode") != "IQ"
    np.testing.assert_allclose(b["estimate"][govs].to_numpy(float), a["estimate"][govs].to_numpy(float), atol=1e-12)
    np.testing.assert_allclose(b["std_error"][govs].to_numpy(float), a["std_error"][govs].to_numpy(float), atol=1e-12)
    national = ("water_problem_reported", "IQ", "all", "all")
    assert abs(b.loc[national, "estimate"] - a.loc[national, "estimate"]) > 0.005
    waves = dbt_warehouse.query("select * from marts.dim_wave").set_index("source_id")
    assert waves.loc["sim_national_ps", "post_stratify"] == "governorate_population"
    assert waves.loc["sim_national", "post_stratify"] == "none"


def test_extreme_weights_are_flagged(dbt_warehouse):
    waves = dbt_warehouse.query("select * from marts.dim_wave").set_index("source_id")
    # skewed_case: one weight of 1000 among 40 weights of 1
    assert waves.loc["skewed_case", "weight_ratio_max_median"] == 1000.0
    assert waves.loc["skewed_case", "has_extreme_weights"]
    assert not waves.loc["sim_hh_2024", "has_extreme_weights"]
    r = dbt_warehouse.query("select * from marts.fct_service_indicators where source_id = 'skewed_case' "
                            "and governorate_pcode = 'IQG13' and indicator_id = 'water_problem_reported'").iloc[0]
    assert r.weight_ratio_max_median == 1000.0 and r.has_extreme_weights


def test_rules_of_the_snapshot_are_in_the_warehouse(dbt_warehouse):
    rules = dbt_warehouse.query("select * from marts.dim_estimation_rules")
    assert len(rules) == 1
    r = rules.iloc[0]
    assert (r.suppression_min_n, r.suppression_min_n_eff, r.unreliable_ci_width, r.unreliable_relative_width,
            r.default_single_psu_rule, r.extreme_weight_ratio, r.confidence_level) == (30, 30, 0.3, 1.3, "skip", 10, 0.95)
    assert "unweighted n < 30" in r.rule_text and "effective n < 30" in r.rule_text
    assert "30 percentage points" in r.rule_text and "130%" in r.rule_text


def test_rules_follow_the_project_vars(dbt_warehouse, tmp_path):
    """Changing a threshold in one place (a dbt var) changes the rule text and the suppression: the shared
    build (default vars) copied, and the rules and estimates rebuilt with other vars."""
    path = tmp_path / dbt_warehouse.path.name  # the same file name: DuckDB names the catalog after it
    shutil.copyfile(dbt_warehouse.path, path)
    result = raw_fixtures.run_dbt(["run", "--vars", '{"suppression_min_n": 50, "unreliable_ci_width": 0.2}',
                                   "--select", "+dim_estimation_rules", "+fct_service_indicators"], path, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    con = duckdb.connect(str(path), read_only=True)
    try:
        text = con.execute("select rule_text from marts.dim_estimation_rules").fetchone()[0]
        reasons = con.execute("select suppression_reason from marts.fct_service_indicators where source_id = "
                              "'sim_national' and governorate_pcode = 'IQG01' and indicator_id = "
                              "'water_problem_reported' and disaggregation = 'all'").fetchone()[0]
    finally:
        con.close()
    assert "unweighted n < 50" in text and "20 percentage points" in text
    assert reasons is not None and "n < 50" in reasons  # 35 answers: published at 30, suppressed at 50
