"""Regression tests for the dashboard review findings (each fails on the code before its fix).

1. suppressed cells leaked p̂ = 0 / 1 through ci_method, design_effect, n_effective, ...;
2. partial-coverage sources (Tal Afar city) were shown as governorate-wide / "median across
   governorates";
3. a wave where a question was not asked became the Overview's "latest wave";
4. budget page: as_of, governorates not reported, 2020 without a budget law, no-amount sources;
5. a small SE was shown as "0.0 pts";
6. the budget heatmap had no SYNTHETIC label in the figure itself.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import charts, queries
from dashboards import tables as T
from scratch_warehouses import FCT_COLUMNS

#: marts.dim_wave.coverage of talafar_water_2021 (scratch fixture and pipeline alike)
TALAFAR_COVERAGE = "Tal Afar city only (a city in Ninewa), not the whole governorate"

OVERVIEW, EXPLORER, BUDGET = "views/overview.py", "views/indicator_explorer.py", "views/budget_execution.py"

#: Every column of the explorer's CSV computed from the answers: blank for a suppressed row.
DERIVED_CSV = [
    "estimate", "ci_lower", "ci_upper", "std_error", "ci_method", "degrees_of_freedom",
    "n_effective", "design_effect", "excluded_share", "is_unreliable",
]


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------


def _csv(data: bytes) -> pl.DataFrame:
    """A CSV download as strings (blank cells are null)."""
    return pl.read_csv(io.StringIO(data.decode("utf-8-sig")), infer_schema=False)


def _select(at: AppTest, **values: str) -> None:
    for key, value in values.items():
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, [e.value for e in at.exception]


def _plotly(at: AppTest, index: int = 0) -> dict:
    return json.loads(at.get("plotly_chart")[index].proto.spec)


def _execute(path: Path, *sql: str) -> None:
    con = duckdb.connect(str(path))
    try:
        for statement in sql:
            con.execute(statement)
    finally:
        con.close()


def _plant_boundary_cell(path: Path) -> None:
    """A suppressed cell with p̂ = 1 as the estimator writes it: Clopper-Pearson CI on the
    effective n, SE 0, design effect NULL (p̂(1-p̂) = 0)."""
    _execute(
        path,
        f"INSERT INTO marts.fct_service_indicators ({FCT_COLUMNS}) VALUES ('water_service_good', 'demo_services', "
        "'2024-01', 'IQG11', 'hoh_sex', 'female', 1.0, 0.0, 0.437253, 1.0, 'clopper_pearson_neff', "
        "56, 19, 4.459247, NULL, 0.0, true, 'n < 30; effective n < 30', true, true)",
    )


# --------------------------------------------------------------------------------------
# 1. suppressed cells carry no statistic computed from the answers
# --------------------------------------------------------------------------------------
def test_query_blanks_every_derived_statistic_of_a_p_hat_one_cell(scratch_warehouse_copy: Path) -> None:
    _plant_boundary_cell(scratch_warehouse_copy)
    df = queries.service_estimates(
        scratch_warehouse_copy, indicator_id="water_service_good", wave_id="2024-01",
        disaggregation="hoh_sex", governorate_pcode="IQG11",
    )
    row = df.row(0, named=True)
    assert {c: row[c] for c in [*queries.DERIVED_COLUMNS, "is_unreliable"]} == dict.fromkeys(
        [*queries.DERIVED_COLUMNS, "is_unreliable"]
    )
    # what is kept: identifiers, n, the flag and its reason
    assert (row["governorate_pcode"], row["disaggregation_value"], row["n_unweighted"],
            row["is_suppressed"], row["suppression_reason"]) == (
        "IQG11", "female", 19, True, "n < 30; effective n < 30")


def test_tables_blank_derived_statistics_even_if_given_values(scratch_warehouse: Path) -> None:
    rows = queries.service_estimates(scratch_warehouse, indicator_id="water_service_good", wave_id="2023-01")
    # a caller that bypassed the query layer: the suppressed Basra row carries p̂ = 1 markers
    leaky = rows.with_columns(
        pl.when(pl.col("is_suppressed")).then(pl.lit("clopper_pearson_neff")).otherwise(pl.col("ci_method")).alias("ci_method"),
        pl.when(pl.col("is_suppressed")).then(pl.lit(4.459247)).otherwise(pl.col("n_effective")).alias("n_effective"),
        pl.when(pl.col("is_suppressed")).then(pl.lit(0.0123)).otherwise(pl.col("excluded_share")).alias("excluded_share"),
        pl.when(pl.col("is_suppressed")).then(pl.lit(56)).otherwise(pl.col("degrees_of_freedom")).alias("degrees_of_freedom"),
    )
    export = _csv(T.to_csv_bytes(T.estimates_export(leaky)))
    basra = export.filter(pl.col("governorate_pcode") == "IQG02").row(0, named=True)
    assert [basra[c] for c in DERIVED_CSV] == [None] * len(DERIVED_CSV)
    assert (basra["n_unweighted"], basra["is_suppressed"], basra["status"]) == ("12", "true", "suppressed (n < 30)")
    display = T.estimates_display(leaky).filter(pl.col("P-code") == "IQG02").row(0, named=True)
    assert (display["n eff."], display["Design effect"], display["Excluded share"], display["SE"]) == ("–",) * 4


def test_explorer_table_and_csv_do_not_reveal_p_hat_one(open_app, downloads, scratch_warehouse_copy: Path) -> None:
    _plant_boundary_cell(scratch_warehouse_copy)
    at = open_app(scratch_warehouse_copy, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="hoh_sex")
    table = at.dataframe[0].value
    erbil = table[(table["P-code"] == "IQG11") & (table["Group"] == "female-headed households")].iloc[0]
    assert (erbil["Estimate"], erbil["SE"], erbil["n eff."], erbil["Design effect"], erbil["Excluded share"]) == (
        "suppressed (n < 30; effective n < 30)", "–", "–", "–", "–")
    assert erbil["n"] == 19
    csv = _csv(downloads.estimates)
    suppressed = csv.filter(pl.col("is_suppressed") == "true")
    assert suppressed.height == 2  # Ninewa female (planted by conftest) and Erbil female (p̂ = 1)
    for col in DERIVED_CSV:
        assert suppressed[col].null_count() == 2, col
    assert "clopper_pearson_neff" not in downloads.estimates.decode("utf-8-sig")
    assert "4.459247" not in downloads.estimates.decode("utf-8-sig")


def test_real_clinic_access_csv_has_no_statistic_of_suppressed_rows(open_app, downloads, real_warehouse: Path) -> None:
    """IOM DTM ILA5, clinic access: Maysan (IQG14) is suppressed with p̂ = 1, which the estimator
    marks by ci_method 'clopper_pearson_neff' and a NULL design effect."""
    at = open_app(real_warehouse, EXPLORER)
    _select(at, explorer_indicator="clinic_access", explorer_wave="iom_dtm_ila5_2020|2020-ILA5",
            explorer_disaggregation="all")
    csv = _csv(downloads.estimates)
    suppressed = csv.filter(pl.col("is_suppressed") == "true")
    assert suppressed.height >= 1
    assert "IQG14" in suppressed["governorate_pcode"].to_list()
    for col in ("ci_method", "design_effect", "n_effective"):
        assert suppressed[col].null_count() == suppressed.height, col
    for col in DERIVED_CSV:
        assert suppressed[col].null_count() == suppressed.height, col
    published = csv.filter(pl.col("is_suppressed") == "false")
    assert published["ci_method"].null_count() == 0  # published rows keep theirs
    table = at.dataframe[0].value
    maysan = table[table["P-code"] == "IQG14"].iloc[0]
    assert (maysan["n eff."], maysan["Design effect"], maysan["Excluded share"], maysan["95% CI"], maysan["SE"]) == ("–",) * 5


# --------------------------------------------------------------------------------------
# 2. coverage: a city is not a governorate
# --------------------------------------------------------------------------------------
def test_queries_carry_coverage(scratch_warehouse: Path) -> None:
    est = queries.service_estimates(scratch_warehouse, indicator_id="water_service_good", disaggregation="all")
    assert dict(est.select("source_id", "coverage").unique().iter_rows()) == {
        "demo_services": None,
        "talafar_water_2021": TALAFAR_COVERAGE,
    }
    summary = queries.headline_summary(scratch_warehouse)
    talafar = summary.filter(pl.col("source_id") == "talafar_water_2021").row(0, named=True)
    assert (talafar["coverage"], talafar["n_governorates"], talafar["single_governorate_pcode"],
            talafar["single_name_en"], talafar["single_estimate"], talafar["single_ci_lower"],
            talafar["single_ci_upper"]) == (TALAFAR_COVERAGE, 1, "IQG15", "Ninewa", 0.444, 0.396, 0.493)
    demo = summary.filter(pl.col("indicator_id") == "water_service_good", pl.col("source_id") == "demo_services")
    assert demo.select("coverage", "single_estimate").row(0) == (None, None)
    assert queries.waves(scratch_warehouse)["coverage"].to_list() == [None, None, TALAFAR_COVERAGE]


def test_coverage_labels() -> None:
    assert T.coverage_short(TALAFAR_COVERAGE) == "Tal Afar city only"
    assert T.coverage_short(None) == ""
    assert T.area_label("Ninewa", TALAFAR_COVERAGE) == "Ninewa — Tal Afar city only"
    assert T.area_label("Ninewa", None) == "Ninewa"


def test_headline_of_a_city_is_its_estimate_not_a_median(scratch_warehouse: Path) -> None:
    display = T.headline_display(queries.headline_summary(scratch_warehouse))
    rows = {r["Source · wave"] + " " + r["Indicator"]: r for r in display.iter_rows(named=True)}
    talafar = rows["talafar_water_2021 · 2021-07 Municipal water service rated good or excellent"]
    assert {k: talafar[k] for k in ("Coverage", "Headline", "Headline is", "Range or 95% CI")} == {
        "Coverage": "Tal Afar city only",
        "Headline": "44.4%",
        "Headline is": "estimate for Ninewa — Tal Afar city only",
        "Range or 95% CI": "39.6–49.3% (95% CI)",
    }
    assert "median" not in " ".join(str(v) for v in talafar.values()).lower()
    # demo_services reached every governorate: its headline is the national estimate, the
    # median and range of governorates stay as context
    demo = rows["demo_services · 2024-01 Municipal water service rated good or excellent"]
    assert {k: demo[k] for k in ("Coverage", "Headline", "Headline is", "Range or 95% CI", "Across governorates")} == {
        "Coverage": "governorate-wide",
        "Headline": "60.0%",
        "Headline is": "design-based national estimate for Iraq",
        "Range or 95% CI": "57.8–62.1% (95% CI)",
        "Across governorates": "median 62.0%, range 52.0% to 77.0% (4 governorates)",
    }
    assert demo["Governorates with an estimate"] == 4  # the national estimate is not a governorate


def test_headline_of_a_single_governorate_without_coverage(scratch_warehouse_copy: Path) -> None:
    """Fewer than two governorates, coverage NULL: still the estimate itself, not a median."""
    _execute(scratch_warehouse_copy, "UPDATE marts.dim_wave SET coverage = NULL")
    display = T.headline_display(queries.headline_summary(scratch_warehouse_copy))
    talafar = display.filter(pl.col("Source · wave") == "talafar_water_2021 · 2021-07").row(0, named=True)
    assert (talafar["Coverage"], talafar["Headline"], talafar["Headline is"], talafar["Range or 95% CI"]) == (
        "governorate-wide", "44.4%", "estimate for Ninewa (the only governorate with a published estimate)",
        "39.6–49.3% (95% CI)")


def test_overview_names_the_city(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, OVERVIEW)
    headline = at.dataframe[0].value
    talafar = headline[headline["Source · wave"] == "talafar_water_2021 · 2021-07"].iloc[0]
    assert talafar["Headline is"] == "estimate for Ninewa — Tal Afar city only"
    assert "Median across governorates" not in headline.columns
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any("talafar_water_2021" in c and TALAFAR_COVERAGE in c for c in captions)

    _select(at, overview_governorate="IQG15")
    snap = at.dataframe[1].value
    by_source = {r["Source · wave"]: r for _, r in snap.iterrows()}
    assert by_source["talafar_water_2021 · 2021-07"]["Area"] == "Ninewa — Tal Afar city only"
    assert by_source["talafar_water_2021 · 2021-07"]["Median across governorates"] == "n/a (one area only)"
    assert by_source["demo_services · 2024-01"]["Area"] == "Ninewa"
    assert by_source["demo_services · 2024-01"]["Median across governorates"] == "62.0%"


def test_explorer_labels_city_bars_table_and_csv(open_app, downloads, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="talafar_water_2021|2021-07",
            explorer_disaggregation="all")
    bars = _plotly(at)
    assert [y for trace in bars["data"] for y in trace["y"]] == ["Ninewa — Tal Afar city only"]
    assert at.dataframe[0].value["Area"].tolist() == ["Ninewa — Tal Afar city only"]
    csv = _csv(downloads.estimates)
    assert csv["coverage"].to_list() == [TALAFAR_COVERAGE]
    captions = [c.value.replace("\\", "") for c in at.caption]
    assert any(TALAFAR_COVERAGE in c for c in captions)
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert f"**Coverage:** {TALAFAR_COVERAGE}" in md

    downloads.clear()
    _select(at, explorer_wave="demo_services|2024-01")
    assert _csv(downloads.estimates)["coverage"].null_count() == 5  # governorate-wide (and national): blank
    assert "Ninewa" in at.dataframe[0].value["Area"].tolist()


def test_warehouse_without_coverage_column(open_app, scratch_warehouse_copy: Path) -> None:
    _execute(scratch_warehouse_copy, "ALTER TABLE marts.dim_wave DROP COLUMN coverage")
    est = queries.service_estimates(scratch_warehouse_copy)
    assert est["coverage"].null_count() == est.height
    summary = queries.headline_summary(scratch_warehouse_copy)
    assert summary["coverage"].null_count() == summary.height
    assert queries.waves(scratch_warehouse_copy)["coverage"].null_count() == 3
    for page in (OVERVIEW, EXPLORER):
        at = open_app(scratch_warehouse_copy, page)
        assert not at.error


def test_real_warehouse_tal_afar_is_labelled_as_a_city(open_app, downloads, real_warehouse: Path) -> None:
    con = duckdb.connect(str(real_warehouse), read_only=True)
    try:
        has_coverage = con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'marts' "
            "AND table_name = 'dim_wave' AND column_name = 'coverage'"
        ).fetchone()[0]
    finally:
        con.close()
    if not has_coverage:
        pytest.skip("the pipeline does not write marts.dim_wave.coverage yet")
    at = open_app(real_warehouse, OVERVIEW)
    at.toggle(key="overview_include_provisional").set_value(True).run()  # a pipeline run approves nothing
    headline = at.dataframe[0].value
    talafar = headline[headline["Source · wave"].str.startswith("talafar_water_2021")]
    assert len(talafar) >= 1
    assert set(talafar["Headline is"]) == {"estimate for Ninewa — Tal Afar city only"}
    assert set(talafar["Coverage"]) == {"Tal Afar city only"}

    at = open_app(real_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="talafar_water_2021|2021-07",
            explorer_disaggregation="all")
    assert _csv(downloads.estimates)["coverage"].to_list() == [
        "Tal Afar city only (a city in Ninewa), not the whole governorate"
    ]
    assert _plotly(at)["data"][0]["y"] == ["Ninewa — Tal Afar city only"]


# --------------------------------------------------------------------------------------
# 3. a wave without any published estimate is not the latest wave
# --------------------------------------------------------------------------------------
def _plant_unasked_wave(path: Path) -> None:
    """demo_services wave 2025-01 did not ask the piped-hours question: every cell is suppressed
    'no answers in domain'. Source 'empty_src' never published water_service_good."""
    cells = ", ".join(
        f"('water_piped_hours_mean', 'demo_services', '2025-01', '{g}', 'all', 'all', NULL, NULL, "
        "NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL, true, 'no answers in domain', NULL, true)"
        for g in ("IQG02", "IQG08", "IQG11", "IQG15")
    )
    _execute(
        path,
        "INSERT INTO marts.dim_wave (source_id, wave_id, title, is_synthetic, fieldwork_start) VALUES "
        "('demo_services', '2025-01', 'Demo services survey, wave 3', true, DATE '2025-01-10'), "
        "('empty_src', '2022-05', 'A survey with too few respondents', false, DATE '2022-05-01')",
        f"INSERT INTO marts.fct_service_indicators ({FCT_COLUMNS}) VALUES {cells}",
        f"INSERT INTO marts.fct_service_indicators ({FCT_COLUMNS}) VALUES ('water_service_good', 'empty_src', '2022-05', "
        "'IQG08', 'all', 'all', 0.5, 0.1, 0.3, 0.7, 'logit', 10, 12, 9.0, 1.3, 0.0, true, 'n < 30', "
        "false, false)",
        # both new waves approved (no registered files: the approval covers none), so the steering
        # committee's default view is what is under test here
        "INSERT INTO raw.survey_sources (source_id, wave_id, is_synthetic) VALUES "
        "('demo_services', '2025-01', true), ('empty_src', '2022-05', false)",
        "INSERT INTO audit.wave_approvals (source_id, wave_id, action, decided_by, decided_at) VALUES "
        "('demo_services', '2025-01', 'approve', 'Layla Hassan', TIMESTAMP '2025-03-01 10:00:00'), "
        "('empty_src', '2022-05', 'approve', 'Layla Hassan', TIMESTAMP '2025-03-01 10:00:00')",
    )


def test_headline_skips_a_wave_where_the_question_was_not_asked(scratch_warehouse_copy: Path) -> None:
    _plant_unasked_wave(scratch_warehouse_copy)
    summary = queries.headline_summary(scratch_warehouse_copy)
    got = summary.select(
        "indicator_id", "source_id", "wave_id", "has_published", "n_waves", "n_governorates",
        "n_suppressed", "median_estimate",
    ).rows()
    assert got == [
        ("water_piped_hours_mean", "demo_services", "2024-01", True, 1, 3, 1, 14.25),
        ("water_service_good", "demo_services", "2024-01", True, 2, 4, 0, pytest.approx(0.62)),
        ("water_service_good", "empty_src", "2022-05", False, 0, 0, 1, None),
        ("water_service_good", "talafar_water_2021", "2021-07", True, 1, 1, 0, 0.444),
    ]
    display = T.headline_display(summary)
    empty = display.filter(pl.col("Source · wave") == "empty_src · 2022-05").row(0, named=True)
    assert (empty["Headline"], empty["Headline is"]) == (
        "–", "no published estimate in any wave (all cells suppressed)")


def test_overview_latest_wave_has_a_published_estimate(open_app, scratch_warehouse_copy: Path) -> None:
    _plant_unasked_wave(scratch_warehouse_copy)
    at = open_app(scratch_warehouse_copy, OVERVIEW)
    headline = at.dataframe[0].value
    hours = headline[headline["Indicator"] == "Mean hours of piped water per day"].iloc[0]
    assert hours["Source · wave"] == "demo_services · 2024-01"  # not 2025-01 (not asked)
    assert hours["Headline"] == "13.1 h/day"  # the national estimate of 2024-01
    assert any("No wave has a published estimate" in c.value and "empty_src" in c.value for c in at.caption)


# --------------------------------------------------------------------------------------
# 4. budget page
# --------------------------------------------------------------------------------------
def test_budget_as_of_in_query_table_caption_and_hover(open_app, scratch_warehouse: Path) -> None:
    df = queries.budget_execution(scratch_warehouse, source_id="sigir_provincial_capital")
    assert [str(d) if d else None for d in df.filter(pl.col("governorate_pcode") == "IQG15")["as_of"]] == [
        None, None, "2009-10-13"]
    display = T.budget_display(df)
    assert display.filter(pl.col("Fiscal year") == 2009)["As of"].to_list() == ["2009-10-13", "2009-10-13"]
    assert display.filter(pl.col("Fiscal year") == 2007)["As of"].to_list() == ["–", "–"]
    assert T.budget_matrix(df)["hover"][0] == ["45.0%", "no data", "75.0% (year to date, as of 2009-10-13)"]

    at = open_app(scratch_warehouse, BUDGET)
    _select(at, budget_source="sigir_provincial_capital")
    assert any("as of 2009-10-13 (FY2009)" in c.value and "year to date" in c.value for c in at.caption)
    spec = json.dumps(_plotly(at), ensure_ascii=False)
    assert "75.0% (year to date, as of 2009-10-13)" in spec
    rows = at.dataframe[-1].value
    assert set(rows.loc[rows["Fiscal year"] == 2009, "As of"]) == {"2009-10-13"}


def test_budget_without_as_of_column(scratch_warehouse_copy: Path) -> None:
    _execute(scratch_warehouse_copy, "ALTER TABLE marts.fct_budget_execution DROP COLUMN as_of")
    df = queries.budget_execution(scratch_warehouse_copy)
    assert df["as_of"].null_count() == df.height and T.budget_as_of(df) == []


def test_budget_grid_lists_governorates_not_reported(open_app, scratch_warehouse: Path) -> None:
    sigir = queries.budget_execution(scratch_warehouse, source_id="sigir_provincial_capital")
    m = T.budget_matrix(sigir, queries.governorates(scratch_warehouse))
    assert m["governorates"] == ["Al-Basrah · البصرة", "Baghdad · بغداد", "Erbil · اربيل", "Ninewa · نينوى"]
    assert m["z"] == [[None, None, None], [45.0, None, 75.0], [None, None, None], [40.0, 55.0, 70.0]]
    assert m["text"][0] == m["text"][2] == ["not reported"] * 3
    assert m["text"][1] == ["45.0%", "no data", "75.0%"]

    at = open_app(scratch_warehouse, BUDGET)
    _select(at, budget_source="sigir_provincial_capital")
    pivot = at.dataframe[0].value
    assert pivot["Governorate"].tolist() == m["governorates"]
    assert pivot.loc[pivot["Governorate"].str.startswith("Erbil"), "2009"].item() == "not reported"
    heat = _plotly(at)["data"][0]
    assert heat["z"][2] == [None, None, None]  # grey gap, never zero


def test_real_budget_grid_has_all_19_governorates(open_app, real_warehouse: Path) -> None:
    at = open_app(real_warehouse, BUDGET)
    _select(at, budget_source="sigir_2009_provincial_capital_budget_execution")
    pivot = at.dataframe[0].value
    assert len(pivot) == 19
    assert pivot.loc[pivot["Governorate"].str.startswith("Erbil"), "2009"].item() == "not reported"
    assert pivot.loc[pivot["Governorate"].str.startswith("Halabja"), "2009"].item() == "not reported"
    assert pivot.loc[pivot["Governorate"].str.startswith("Baghdad"), "2009"].item() == "33.0%"
    assert any("as of 2009-10-13" in c.value for c in at.caption)
    assert any(c.value == "Amounts in USD million." for c in at.caption)


def test_2020_had_no_budget_law() -> None:
    df = pl.DataFrame(
        {
            "governorate_pcode": ["IQG08", "IQG08"], "fiscal_year": [2019, 2021],
            "execution_rate": [0.5, 0.6], "name_en": ["Baghdad", "Baghdad"], "name_ar": [None, None],
        }
    )
    assert T.budget_matrix(df)["text"] == [["50.0%", "no budget law", "60.0%"]]
    assert sorted(T.NO_BUDGET_LAW_YEARS) == [2014, 2020, 2022]


def test_budget_without_amounts_claims_no_unit(open_app, scratch_warehouse_copy: Path) -> None:
    _execute(
        scratch_warehouse_copy,
        "INSERT INTO marts.fct_budget_execution VALUES "
        "('IQG08', 2008, 'sigir_2008_pct', 'total', NULL, NULL, 0.12, 'published', 'USD', 'USD million', false, NULL), "
        "('IQG15', 2008, 'sigir_2008_pct', 'total', NULL, NULL, 0.07, 'published', 'USD', 'USD million', false, NULL)",
    )
    at = open_app(scratch_warehouse_copy, BUDGET)
    _select(at, budget_source="sigir_2008_pct")
    captions = [c.value for c in at.caption]
    assert "Execution rate as published; no amounts." in captions
    assert not any(c.startswith("Amounts in") for c in captions)
    rows = at.dataframe[-1].value
    assert set(rows.loc[rows["Source"] == "sigir_2008_pct", "Unit"]) == {"–"}
    _select(at, budget_source="sigir_provincial_capital")
    assert "Amounts in USD million." in [c.value for c in at.caption]


def test_real_sigir_2008_has_no_amounts(open_app, real_warehouse: Path) -> None:
    at = open_app(real_warehouse, BUDGET)
    _select(at, budget_source="sigir_2008_provincial_budget_execution_pct")
    captions = [c.value for c in at.caption]
    assert "Execution rate as published; no amounts." in captions
    assert not any(c.startswith("Amounts in") for c in captions)


# --------------------------------------------------------------------------------------
# 5. small standard errors
# --------------------------------------------------------------------------------------
def test_small_standard_error_is_not_shown_as_zero() -> None:
    assert T.fmt_se(0.0004, "proportion") == "<0.1 pts"
    assert T.fmt_se(0.000499, "proportion") == "<0.1 pts"
    assert T.fmt_se(0.0006, "proportion") == "0.1 pts"
    assert T.fmt_se(0.0211, "proportion") == "2.1 pts"
    assert T.fmt_se(0.0, "proportion") == "0 pts"
    assert T.fmt_se(0.03, "mean", "hours/day") == "<0.1 h/day"
    assert T.fmt_se(0.6, "mean", "hours/day") == "0.6 h/day"


def test_explorer_table_shows_small_se(scratch_warehouse_copy: Path) -> None:
    _execute(
        scratch_warehouse_copy,
        "UPDATE marts.fct_service_indicators SET std_error = 0.0004 WHERE source_id = 'talafar_water_2021'",
    )
    rows = queries.service_estimates(scratch_warehouse_copy, source_id="talafar_water_2021")
    assert T.estimates_display(rows)["SE"].to_list() == ["<0.1 pts"]


# --------------------------------------------------------------------------------------
# 6. SYNTHETIC inside the budget heatmap
# --------------------------------------------------------------------------------------
def test_budget_heatmap_title_says_synthetic(open_app, scratch_warehouse: Path) -> None:
    m = T.budget_matrix(queries.budget_execution(scratch_warehouse, source_id="demo_budget"))
    fig = charts.budget_heatmap(m, title="Execution rate — demo_budget, total budget", synthetic=True)
    assert fig.layout.title.text == "Execution rate — demo_budget, total budget — SYNTHETIC demo data"
    assert T.SYNTHETIC_LABEL not in (charts.budget_heatmap(m, title="x").layout.title.text or "")

    at = open_app(scratch_warehouse, BUDGET)
    _select(at, budget_source="demo_budget")
    assert T.SYNTHETIC_LABEL in _plotly(at)["layout"]["title"]["text"]
    _select(at, budget_source="sigir_provincial_capital")
    assert T.SYNTHETIC_LABEL not in _plotly(at)["layout"]["title"]["text"]
