"""Fiscal marts (issue 6) on the dbt test warehouse: PEFA PI-1 / PI-2, per capita and constant IQD, years
without a budget law, partial sources, spending next to service indicators. Inputs: raw_fixtures.PEFA_LINES
and the real reference tables of data_contracts/reference/ (loaded by raw_fixtures.build_test_warehouse)."""

from __future__ import annotations

import math

import pytest

import raw_fixtures
from data_contracts import fiscal


def _one(dbt_warehouse, sql: str, params: list | None = None):
    rows = dbt_warehouse.query(sql, params)
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_pefa_pi1_and_pi2_match_the_hand_computation(dbt_warehouse):
    # Kerbala 2021, IQD million: (B original allocation, A expenditure) = (100, 80), (50, 60), (50, 40)
    # PI-1 = sum A / sum B = 180 / 200 = 0.9
    # PI-2: adjusted budgets B x 180/200 = 90, 45, 45; |80-90| + |60-45| + |40-45| = 10 + 15 + 5 = 30;
    #       30 / 180 = 1/6
    row = _one(dbt_warehouse, "select * from marts.fct_budget_pefa where source_id = 'budget_pefa_hand' "
                              "and governorate_pcode = 'IQG12' and fiscal_year = 2021")
    assert row.pefa_pi1_outturn == pytest.approx(0.9)
    assert row.pefa_pi2_composition_variance == pytest.approx(1 / 6)
    assert row.expenditure_iqd == pytest.approx(180e6) and row.allocation_original_iqd == pytest.approx(200e6)
    assert row.n_composition_lines == 3
    # capital = water + education: expenditure 120 / 180, allocation 150 / 200
    assert row.capital_share_expenditure == pytest.approx(2 / 3)
    assert row.capital_share_allocation == pytest.approx(0.75)
    # allocation shares in the source that year: Kerbala 200 / 300, Najaf 100 / 300; population shares from
    # the test populations of 2021
    kerbala, najaf = raw_fixtures.population("IQG12", 2021), raw_fixtures.population("IQG04", 2021)
    assert row.allocation_to_population_share_ratio == pytest.approx((200 / 300) / (kerbala / (kerbala + najaf)))


def test_real_change_is_null_after_a_year_without_a_budget_law(dbt_warehouse):
    rows = dbt_warehouse.query("select * from marts.fct_budget_pefa where source_id = 'budget_pefa_hand' "
                               "and governorate_pcode = 'IQG12' order by fiscal_year").set_index("fiscal_year")
    assert list(rows.index) == [2021, 2022, 2023]
    deflator = {r["year"]: r["cpi"] for r in fiscal.cpi().iter_rows(named=True)}
    # 2022 against 2021 (a budget-law year): 90 vs 180 in nominal IQD million, deflated by each year's CPI
    expected = (90 / deflator[2022]) / (180 / deflator[2021]) - 1
    assert rows.loc[2022, "real_change_expenditure_yoy"] == pytest.approx(expected)
    assert not bool(rows.loc[2022, "budget_law"])
    # 2023 follows 2022, which had no budget law: no change, and never a change from zero
    assert math.isnan(rows.loc[2023, "real_change_expenditure_yoy"])
    assert rows.loc[2023, "yoy_not_comparable_reason"] == "no budget law in 2022"
    assert rows.loc[2021, "yoy_not_comparable_reason"] == "no budget law in 2020"  # 2020 had no budget law either


def test_per_capita_and_constant_iqd_for_one_governorate_year(dbt_warehouse):
    # Baghdad 2021, budget_lines_demo: expenditure 80 + 45 = 125 IQD billion
    row = _one(dbt_warehouse, "select * from marts.fct_budget_execution where source_id = 'budget_lines_demo'")
    population = raw_fixtures.population("IQG08", 2021)  # 1e6 + 7 x 1e5 + 1e3 = 1,701,000
    assert population == 1_701_000
    cpi = {r["year"]: r["cpi"] for r in fiscal.cpi().iter_rows(named=True)}
    rate = {r["year"]: r["iqd_per_usd"] for r in fiscal.exchange_rates().iter_rows(named=True)}
    assert rate[2021] == 1450
    assert row.expenditure_iqd == pytest.approx(125e9)
    assert row.expenditure_iqd_per_capita == pytest.approx(125e9 / 1_701_000)  # 73,486.18 IQD
    assert row.expenditure_usd_per_capita == pytest.approx(125e9 / 1450 / 1_701_000)
    real = 125e9 / (cpi[2021] / cpi[2023])  # constant 2023 IQD (dbt var cpi_base_year)
    assert row.expenditure_iqd_real == pytest.approx(real)
    assert row.expenditure_iqd_real_per_capita == pytest.approx(real / 1_701_000)
    assert row.execution_rate_revised == pytest.approx(125 / 150)  # revised 110 + 40
    assert bool(row.budget_law) and not bool(row.is_partial)


def test_usd_source_is_converted_at_the_official_rate_of_its_year(dbt_warehouse):
    # SIGIR 2009 style: 112 USD million allocated to Anbar; 2009 rate 1,170
    row = _one(dbt_warehouse, "select * from marts.fct_budget_execution where source_id = 'budget_pct_alloc'")
    assert row.allocation_iqd == pytest.approx(112e6 * 1170)
    assert row.allocation_usd == pytest.approx(112e6)


def test_years_without_a_budget_law_are_present_and_flagged(dbt_warehouse):
    dim = dbt_warehouse.query("select * from marts.dim_fiscal_year").set_index("fiscal_year")
    for year in (2014, 2020, 2022):
        assert year in dim.index
        assert dim.loc[year, "budget_law"] == False  # noqa: E712 (numpy bool)
    assert dim.loc[2014, "n_budget_lines"] == 0  # present with no data, not a zero budget
    assert dim.loc[2021, "budget_law"] == True  # noqa: E712
    assert dim.loc[2023, "cpi_deflator"] == pytest.approx(1.0) and (dim.cpi_base_year == 2023).all()
    assert dim.loc[2021, "iqd_per_usd"] == 1450 and dim.loc[2024, "iqd_per_usd"] == 1300


def test_a_partial_source_is_flagged_partial_not_zero(dbt_warehouse):
    row = _one(dbt_warehouse, "select * from marts.fct_budget_execution where source_id = 'budget_partial_hand'")
    assert bool(row.is_partial) and row.coverage == "partial" and row.period_months == 7
    assert row.expenditure_iqd == pytest.approx(350e9)
    pefa = _one(dbt_warehouse, "select * from marts.fct_budget_pefa where source_id = 'budget_partial_hand'")
    assert bool(pefa.is_partial)
    assert math.isnan(pefa.allocation_to_population_share_ratio)


def test_service_vs_spending_pairs_sector_spending_with_matching_indicators(dbt_warehouse):
    rows = dbt_warehouse.query("select * from marts.fct_service_vs_spending")
    assert set(rows.sector) == {"water_sanitation"} and set(rows.fiscal_year) == {2024}
    ninewa = rows[rows.governorate_pcode == "IQG15"]
    assert len(ninewa) > 0
    assert ninewa.expenditure_iqd_per_capita.iloc[0] == pytest.approx(50e9 / raw_fixtures.population("IQG15", 2024))
    estimated = ninewa[~ninewa.is_suppressed]
    assert estimated.estimate.notna().all() and (estimated.ci_lower <= estimated.estimate).all()
    # Halabja's 24 respondents: suppressed, and no number survives
    halabja = rows[rows.governorate_pcode == "IQG19"]
    assert len(halabja) > 0 and halabja.is_suppressed.all()
    assert halabja[["estimate", "std_error", "ci_lower", "ci_upper"]].isna().all().all()
    # spending is still shown next to the suppressed cell
    assert halabja.expenditure_iqd.notna().all()


def test_pefa_unit_test_ran(dbt_warehouse):
    assert "pefa_pi1_pi2_hand_computed" in dbt_warehouse.build_output
    assert "pefa_total_beside_parts_counted_once" in dbt_warehouse.build_output
