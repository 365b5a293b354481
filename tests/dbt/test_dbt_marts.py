"""Marts other than the engine's: budget execution, dimensions, and the warehouse layout dbt builds."""

from __future__ import annotations

import math

import pytest

import raw_fixtures

FCT_SERVICE_COLUMNS = [  # docs/architecture.md, in order
    "indicator_id", "source_id", "wave_id", "governorate_pcode", "disaggregation", "disaggregation_value",
    "estimate", "std_error", "ci_lower", "ci_upper", "ci_method", "degrees_of_freedom", "n_unweighted",
    "n_effective", "design_effect", "excluded_share", "n_psu", "n_singleton_strata", "single_psu_rule",
    "weight_ratio_max_median", "has_extreme_weights", "is_suppressed", "suppression_reason", "is_unreliable",
    "is_synthetic",
]


def _columns(dbt_warehouse, schema: str, table: str) -> list[str]:
    return dbt_warehouse.query(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, table])["column_name"].tolist()


def test_schemas_are_exact_names(dbt_warehouse):
    tables = dbt_warehouse.query("select table_schema, table_name, table_type from information_schema.tables")
    schemas = set(tables.table_schema)
    assert {"raw", "staging", "intermediate", "marts", "seeds"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)
    kinds = tables.groupby("table_schema")["table_type"].agg(set).to_dict()
    assert kinds["staging"] == {"VIEW"} and kinds["marts"] == {"BASE TABLE"}
    # intermediate models are views, except the engine's output (a table: the Korn-Graubard interval calls
    # a function only dbt's connection has, so no reader ever evaluates it) and its input observations (a
    # table, incremental by wave, so tests and the engine read it instead of recomputing it)
    intermediate = tables[tables.table_schema == "intermediate"].set_index("table_name")["table_type"]
    assert intermediate.pop("int_indicator_estimates") == "BASE TABLE"
    assert intermediate.pop("int_indicator_observations") == "BASE TABLE"
    assert set(intermediate) == {"VIEW"}
    marts = set(tables[tables.table_schema == "marts"].table_name)
    assert marts == {"fct_service_indicators", "fct_response_distribution", "fct_budget_execution",
                     "fct_indicator_change", "dim_governorate", "dim_indicator", "dim_wave", "dim_estimation_rules",
                     "dim_indicator_wave_scale", "dim_fiscal_year", "fct_budget_pefa", "fct_service_vs_spending",
                     "fct_indicator_progress", "fct_training_outputs", "fct_training_cohorts"}


def test_fct_service_indicators_has_exactly_the_contract_columns(dbt_warehouse):
    assert _columns(dbt_warehouse, "marts", "fct_service_indicators") == FCT_SERVICE_COLUMNS


def test_budget_execution(dbt_warehouse):
    assert _columns(dbt_warehouse, "marts", "fct_budget_execution")[:10] == [
        "governorate_pcode", "fiscal_year", "source_id", "budget_scope", "allocation", "expenditure",
        "execution_rate", "execution_rate_source", "allocation_revised", "currency"]
    rows = dbt_warehouse.query("select * from marts.fct_budget_execution where source_id in "
                               "('budget_pct_alloc', 'budget_pct_only', 'budget_lines_demo')").set_index("source_id")
    assert len(rows) == 3
    pct_alloc = rows.loc["budget_pct_alloc"]
    assert (pct_alloc.allocation, pct_alloc.execution_rate, pct_alloc.execution_rate_source) == (112.0, pytest.approx(0.70), "published")
    assert math.isnan(pct_alloc.expenditure)
    assert (pct_alloc.currency, pct_alloc.unit) == ("USD", "USD million")
    pct_only = rows.loc["budget_pct_only"]
    assert pct_only.execution_rate == pytest.approx(0.07) and math.isnan(pct_only.allocation)
    demo = rows.loc["budget_lines_demo"]  # two sector lines summed
    assert (demo.allocation, demo.expenditure, demo.allocation_revised, demo.n_lines) == (150.0, 125.0, 150.0, 2)
    assert demo.execution_rate == pytest.approx(125 / 150) and demo.execution_rate_source == "computed"
    assert (demo.governorate_pcode, demo.fiscal_year, demo.budget_scope) == ("IQG08", 2021, "capital")
    assert bool(rows.is_synthetic.all())


def test_dim_governorate(dbt_warehouse):
    dim = dbt_warehouse.query("select * from marts.dim_governorate")
    assert len(dim) == 20 and dim.governorate_pcode.is_unique
    by = dim.set_index("governorate_pcode")
    assert by.loc["IQG19", "cod_ab_parent_pcode"] == "IQG06"
    assert (by["area_level"] == "governorate").sum() == 19
    assert (by.loc["IQ", "area_level"], by.loc["IQ", "name_en"]) == ("national", "Iraq (national)")


def test_dim_indicator_carries_the_reference_sheet(dbt_warehouse):
    dim = dbt_warehouse.query("select * from marts.dim_indicator").set_index("indicator_id")
    assert set(dim.index) == set(raw_fixtures.INDICATORS_BY_ID)
    for col in ["version", "sector", "name_en", "name_ar", "definition", "numerator", "denominator", "unit",
                "indicator_type", "question_id", "source_questions", "estimation_method", "ci_method",
                "suppression_rule", "universe", "direction", "disaggregations", "question_label_en"]:
        assert col in dim.columns, col
    assert list(dim.loc["water_service_good", "disaggregations"]) == ["all", "hoh_sex"]
    assert dim.loc["water_service_good", "question_label_en"] == "Water service rating"


def test_dim_wave(dbt_warehouse):
    dim = dbt_warehouse.query("select * from marts.dim_wave").set_index("source_id")
    hand = dim.loc["hand_case"]
    assert (hand.n_respondents, hand.n_strata, hand.n_psu, hand.n_singleton_strata, hand.degrees_of_freedom) == (7, 3, 5, 1, 2)
    for col in ["wave_id", "title", "is_synthetic", "fieldwork_start", "fieldwork_end", "unit_of_analysis",
                "weight_note", "design_note"]:
        assert col in dim.columns, col
    sim = dbt_warehouse.surveys["sim_hh_2024"]
    assert dim.loc["sim_hh_2024", "n_respondents"] == len(sim.respondents)
    assert dim.loc["sim_hh_2024", "n_psu"] == len({r["psu"] for r in sim.respondents})


def test_dbt_build_ran_unit_test_and_data_tests(dbt_warehouse):
    out = dbt_warehouse.build_output
    assert "survey_engine_hand_computed" in out
    assert "complementary_suppression_reaches_every_margin" in out
    assert "change_from_a_boundary_wave_uses_both_intervals" in out
    assert "assert_no_margin_has_one_suppressed_group" in out
    assert "ERROR=0" in out and "WARN=0" in out
