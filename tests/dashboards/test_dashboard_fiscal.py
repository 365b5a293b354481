"""Issue 6 on the dashboard: per capita, PEFA indicators, years without a budget law, partial sources (Budget
execution page) and the "Spending and services" page (marts.fct_service_vs_spending).

Expected values are read from the marts here, with duckdb, and formatted by the test itself, never taken from
the dashboard's code. Warehouses: ``fiscal_warehouse`` (scratch, with a planted suppressed cell and a partial
source), ``scratch_warehouse`` / ``legacy_warehouse`` (older builds without the new marts) and the
pipeline-built ``demo_warehouse`` / ``real_warehouse``.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from signed_in import sign_in
from scratch_warehouses import PARTIAL_SOURCE, SPENDING_SUPPRESSED

BUDGET, SPENDING = "views/budget_execution.py", "views/service_vs_spending.py"
APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _mart(path: Path, sql: str) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.sql(sql).pl()
    finally:
        con.close()


def _open(monkeypatch: pytest.MonkeyPatch, path: Path, page: str) -> AppTest:
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(path))
    at = sign_in(AppTest.from_file(str(APP), default_timeout=120))
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _select(at: AppTest, **values: Any) -> None:
    for key, value in values.items():
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, [e.value for e in at.exception]


def _texts(at: AppTest) -> str:
    """Every text element, dataframe and chart spec of the page."""
    parts = [e.value for kind in ("title", "subheader", "caption", "info", "warning", "error", "markdown")
             for e in getattr(at, kind)]
    parts += [d.value.to_csv(index=False) for d in at.dataframe]
    parts += [p.proto.spec for p in at.get("plotly_chart")]
    return "\n".join(parts)


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import streamlit

    captured: list[dict[str, Any]] = []
    original = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        if str(kwargs.get("file_name") or "").endswith(".xlsx"):  # Excel: tests/dashboards/test_dashboard_downloads.py
            return original(label, data, *args, **kwargs)
        captured.append({"file_name": kwargs.get("file_name"), "data": bytes(data() if callable(data) else data)})
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return captured


def _csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(data.decode("utf-8-sig")), infer_schema=False)


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{v * 100:.1f}%"


def _forbidden(values: list[float]) -> list[re.Pattern[str]]:
    """A hidden number in the forms it could take on a page: raw, in percent, formatted."""
    pats = set()
    for v in values:
        pats |= {re.escape(repr(v)), re.escape(f"{v * 100:.1f}%"), re.escape(f"{v * 100:.4f}"),
                 re.escape(repr(round(v * 100, 6)))}
    return [re.compile(r"(?<![\d.])" + p) for p in pats]


# --------------------------------------------------------------------------------------
# the new page renders everywhere
# --------------------------------------------------------------------------------------
# not legacy_warehouse: an older snapshot gets one message on every page (test_dashboard_home.py)
@pytest.mark.parametrize("name", ["fiscal_warehouse", "demo_warehouse", "real_warehouse",
                                  "scratch_warehouse", "sparse_warehouse"])
def test_spending_page_renders(request, monkeypatch, name: str) -> None:
    path = Path(request.getfixturevalue(name))
    at = _open(monkeypatch, path, SPENDING)
    assert [t.value for t in at.title] == ["Spending and services"]
    assert not at.error, [e.value for e in at.error]
    has_mart = bool(_mart(path, "SELECT count(*) FROM information_schema.tables "
                                "WHERE table_name = 'fct_service_vs_spending'").item())
    if not has_mart:
        assert any("has no `marts.fct_service_vs_spending`" in i.value for i in at.info)
        return
    rows = _mart(path, "SELECT count(*) AS n FROM marts.fct_service_vs_spending")["n"].item()
    if rows == 0:  # e.g. the real data: no wave's fieldwork falls in a year with sector spending
        info = " ".join(i.value for i in at.info)
        assert "Nothing to compare" in info and "fieldwork" in info and not at.get("plotly_chart")
    else:
        assert at.get("plotly_chart"), "no scatter"
        assert any("association, not a cause" in c.value for c in at.caption)


def test_real_spending_page_says_why_it_is_empty(monkeypatch, real_warehouse: Path) -> None:
    assert _mart(real_warehouse, "SELECT count(*) AS n FROM marts.fct_service_vs_spending")["n"].item() == 0
    at = _open(monkeypatch, real_warehouse, SPENDING)
    info = " ".join(i.value for i in at.info)
    budget_years = _mart(real_warehouse, "SELECT DISTINCT fiscal_year FROM marts.fct_budget_execution ORDER BY 1")
    assert "Budget figures cover fiscal years: " + ", ".join(map(str, budget_years["fiscal_year"])) in info


# --------------------------------------------------------------------------------------
# suppression: never plotted, shown or exported with numbers
# --------------------------------------------------------------------------------------
def test_spending_page_never_shows_suppressed_values(monkeypatch, downloads, fiscal_warehouse: Path) -> None:
    hidden = _mart(
        fiscal_warehouse,
        "SELECT governorate_pcode, estimate, std_error, ci_lower, ci_upper FROM marts.fct_service_vs_spending "
        "WHERE is_suppressed",
    )
    assert hidden.height == 1 and hidden.row(0)[1:] == SPENDING_SUPPRESSED  # the planted numbers are in the mart
    numbers = [v for v in hidden.row(0)[1:] if v is not None]
    at = _open(monkeypatch, fiscal_warehouse, SPENDING)
    _select(at, svs_sector="water_sanitation", svs_indicator="water_service_good", svs_year=2023,
            svs_budget_source="demo_budget")
    for currency in ("IQD", "constant IQD"):
        for measure in ("expenditure", "allocation"):
            downloads.clear()
            at.radio(key="svs_measure").set_value(measure).run()
            at.radio(key="svs_currency").set_value(currency).run()
            text = _texts(at)
            for pat in _forbidden(numbers):
                assert not pat.search(text), f"suppressed value {pat.pattern} on the page"
            csv = downloads[-1]["data"].decode("utf-8-sig")
            for pat in _forbidden(numbers):
                assert not pat.search(csv), f"suppressed value {pat.pattern} in the CSV"
    # the suppressed governorate is named as suppressed, with no number, and is not a point of the chart
    assert any("suppressed" in c.value and "Al-Basrah" in c.value for c in at.caption)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert all("Al-Basrah" not in str(t.get("text")) for t in spec["data"])
    rows = _csv(downloads[-1]["data"])
    basra = rows.filter(pl.col("governorate_pcode") == "IQG02")
    assert basra.height == 1
    assert basra.select("estimate", "std_error", "ci_lower", "ci_upper", "is_unreliable").row(0) == (None,) * 5
    assert basra["status"].item() == "suppressed (n < 30)"


def test_spending_csv_carries_no_suppressed_numbers_on_demo(monkeypatch, downloads, demo_warehouse: Path) -> None:
    """Every suppressed cell of the demo's mart (if any) comes without numbers in the CSV; published ones with
    the mart's own estimate."""
    mart = _mart(demo_warehouse, "SELECT * FROM marts.fct_service_vs_spending")
    first = mart.sort("sector", "indicator_id").row(0, named=True)
    at = _open(monkeypatch, demo_warehouse, SPENDING)
    _select(at, svs_sector=first["sector"], svs_indicator=first["indicator_id"], svs_year=first["fiscal_year"],
            svs_budget_source=first["budget_source_id"])
    rows = _csv(downloads[-1]["data"])
    expected = mart.filter(
        (pl.col("sector") == first["sector"]) & (pl.col("indicator_id") == first["indicator_id"])
        & (pl.col("fiscal_year") == first["fiscal_year"]) & (pl.col("budget_source_id") == first["budget_source_id"])
        & (pl.col("survey_source_id") == first["survey_source_id"]) & (pl.col("wave_id") == first["wave_id"])
    )
    assert rows.height == expected.height
    for r in expected.iter_rows(named=True):
        got = rows.filter(pl.col("governorate_pcode") == r["governorate_pcode"]).row(0, named=True)
        if r["is_suppressed"]:
            assert got["estimate"] is None and got["ci_lower"] is None and got["ci_upper"] is None
        else:
            assert float(got["estimate"]) == pytest.approx(r["estimate"])
    assert rows["data"].unique().to_list() == ["SYNTHETIC demo data"]


# --------------------------------------------------------------------------------------
# partial sources and years without a budget law
# --------------------------------------------------------------------------------------
def test_partial_source_is_labelled_on_the_spending_page(monkeypatch, fiscal_warehouse: Path) -> None:
    at = _open(monkeypatch, fiscal_warehouse, SPENDING)
    _select(at, svs_sector="water_sanitation", svs_indicator="water_service_good", svs_year=2023)
    assert f"{PARTIAL_SOURCE} (partial)" in at.selectbox(key="svs_budget_source").options  # labels as shown
    _select(at, svs_budget_source=PARTIAL_SOURCE)
    assert any("Partial source" in w.value and PARTIAL_SOURCE in w.value for w in at.warning)
    title = json.loads(at.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert "(partial)" in title
    # governorates the partial source does not list are "not reported", not zero
    assert any("Not reported" in c.value and "Erbil" in c.value for c in at.caption)
    assert "12,500 (partial)" in at.dataframe[0].value.iloc[:, 1].tolist()


def test_real_partial_source_is_labelled_on_the_budget_page(monkeypatch, real_warehouse: Path) -> None:
    source = _mart(real_warehouse, "SELECT DISTINCT source_id FROM marts.fct_budget_execution WHERE is_partial")
    assert source.height == 1  # Eco Iraq, January to July 2025
    source_id = source.item()
    months = _mart(real_warehouse, f"SELECT DISTINCT period_months FROM marts.fct_budget_execution "
                                   f"WHERE source_id = '{source_id}'").item()
    listed = set(_mart(real_warehouse, f"SELECT DISTINCT governorate_pcode FROM marts.fct_budget_execution "
                                       f"WHERE source_id = '{source_id}' AND budget_scope = 'total'")
                 ["governorate_pcode"])
    at = _open(monkeypatch, real_warehouse, BUDGET)
    _select(at, budget_source=source_id, budget_scope="total")
    assert any("Partial source" in w.value for w in at.warning)
    grid = at.dataframe[0].value
    names = dict(_mart(real_warehouse, "SELECT governorate_pcode, name_en FROM marts.dim_governorate").iter_rows())
    for pcode, name in names.items():
        if pcode == "IQ":
            continue
        cell = grid.loc[grid["Governorate"].str.startswith(name + " ·"), "2025"].item()
        assert cell.endswith("(partial)") if pcode in listed else cell == "not reported", (name, cell)
    rows = at.dataframe[-1].value
    assert set(rows.loc[rows["Source"] == source_id, "Coverage"]) == {f"partial ({months} months)"}


def test_no_budget_law_years_read_no_budget_law(monkeypatch, demo_warehouse: Path) -> None:
    no_law = set(_mart(demo_warehouse, "SELECT fiscal_year FROM marts.dim_fiscal_year WHERE NOT budget_law")
                 ["fiscal_year"])
    assert no_law == {2014, 2020, 2022}
    years = set(_mart(demo_warehouse, "SELECT DISTINCT fiscal_year FROM marts.fct_budget_execution")["fiscal_year"])
    inside = sorted(y for y in no_law if min(years) < y < max(years) and y not in years)
    assert inside, "the demo budget should span a year without a budget law"
    at = _open(monkeypatch, demo_warehouse, BUDGET)
    heat, per_capita = at.dataframe[0].value, at.dataframe[1].value
    for y in inside:
        assert set(heat[str(y)]) == {"no budget law"}, y
        assert set(per_capita[str(y)]) == {"no budget law"}, y
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    gap_text = [t for trace in spec["data"][1:] for t in (trace.get("text") or [])]
    assert "no budget law" in gap_text  # the heatmap's grey cell says so; it is not zero
    assert any("no budget law" in c.value and "2020" in c.value for c in at.caption)


# --------------------------------------------------------------------------------------
# PEFA table = the mart
# --------------------------------------------------------------------------------------
def _expected_pefa(path: Path, source_id: str) -> pl.DataFrame:
    return _mart(
        path,
        f"""
        SELECT g.name_en, p.fiscal_year, p.pefa_pi1_outturn, p.pefa_pi2_composition_variance,
               p.capital_share_expenditure, p.allocation_to_population_share_ratio, p.real_change_expenditure_yoy,
               p.yoy_not_comparable_reason, p.is_partial
        FROM marts.fct_budget_pefa p JOIN marts.dim_governorate g USING (governorate_pcode)
        WHERE p.source_id = '{source_id}' ORDER BY g.name_en, p.fiscal_year
        """,
    )


def _check_pefa(table, expected: pl.DataFrame) -> None:
    assert len(table) == expected.height
    for (_, got), want in zip(table.iterrows(), expected.iter_rows(named=True)):
        assert got["Governorate"].startswith(want["name_en"] + " ·") and got["Fiscal year"] == want["fiscal_year"]
        partial = " (partial)" if want["is_partial"] and want["pefa_pi1_outturn"] is not None else ""
        assert got["PI-1 outturn"] == _pct(want["pefa_pi1_outturn"]) + partial
        assert got["PI-2 composition variance"] == _pct(want["pefa_pi2_composition_variance"])
        if not want["is_partial"]:
            assert got["Capital share of expenditure"] == _pct(want["capital_share_expenditure"])
            ratio = want["allocation_to_population_share_ratio"]
            assert got["Allocation share / population share"] == ("–" if ratio is None else f"{ratio:.2f}")
        change = want["real_change_expenditure_yoy"]
        if change is None:
            assert got["Real change in expenditure"] == f"not comparable: {want['yoy_not_comparable_reason']}"
        else:
            assert got["Real change in expenditure"] == f"{'+' if change >= 0 else '−'}{abs(change) * 100:.1f}%"


def test_pefa_table_equals_the_mart_on_demo(monkeypatch, demo_warehouse: Path) -> None:
    at = _open(monkeypatch, demo_warehouse, BUDGET)
    source_id = at.selectbox(key="budget_source").value
    pefa = next(d.value for d in at.dataframe if "PI-1 outturn" in d.value.columns)
    expected = _expected_pefa(demo_warehouse, source_id)
    assert expected.height > 0 and expected["real_change_expenditure_yoy"].null_count() < expected.height
    _check_pefa(pefa, expected)


def test_pefa_table_equals_the_mart_on_scratch(monkeypatch, downloads, fiscal_warehouse: Path) -> None:
    at = _open(monkeypatch, fiscal_warehouse, BUDGET)
    _select(at, budget_source="demo_budget")
    pefa = next(d.value for d in at.dataframe if "PI-1 outturn" in d.value.columns)
    _check_pefa(pefa, _expected_pefa(fiscal_warehouse, "demo_budget"))
    # by hand: Baghdad 2023 follows 2022, a year without a budget law; 2024 is comparable (−3.75 %)
    baghdad = pefa[pefa["Governorate"].str.startswith("Baghdad")].set_index("Fiscal year")
    assert baghdad.loc[2023, "Real change in expenditure"] == "not comparable: no budget law in 2022"
    assert baghdad.loc[2024, "Real change in expenditure"] == "−3.8%"
    assert baghdad.loc[2021, "PI-1 outturn"] == "70.0%" and baghdad.loc[2021, "PI-2 composition variance"] == "13.8%"
    csv = _csv(next(d["data"] for d in downloads if d["file_name"].startswith("mizan_budget_pefa_")))
    assert csv.filter((pl.col("governorate_pcode") == "IQG08") & (pl.col("fiscal_year") == "2024"))[
        "real_change_expenditure_yoy"].item() == "-0.0375"
    # the partial source: labelled, no capital share or allocation ratio read from a partial listing
    _select(at, budget_source=PARTIAL_SOURCE)
    pefa = next(d.value for d in at.dataframe if "PI-1 outturn" in d.value.columns)
    row = pefa.iloc[0]
    assert row["Coverage"] == "partial"
    assert row["Capital share of expenditure"] == "not computed: partial source"
    assert row["Allocation share / population share"] == "not computed: partial source"


def test_per_capita_and_revised_execution_on_scratch(monkeypatch, fiscal_warehouse: Path) -> None:
    """Baghdad 2021, demo_budget: expenditure 350 bn IQD, 8 m people -> 43,750 IQD per person; allocation
    500 bn -> 62,500; in USD at 1,300 IQD: 33.65; constant IQD of 2023 (deflator 0.9): 48,611. Executed /
    revised allocation 350 / 437.5 = 80.0 %."""
    at = _open(monkeypatch, fiscal_warehouse, BUDGET)
    _select(at, budget_source="demo_budget")

    def baghdad(col: str) -> str:
        grid = at.dataframe[1].value
        return grid.loc[grid["Governorate"].str.startswith("Baghdad"), col].item()

    assert baghdad("2021") == "43,750"
    assert baghdad("2022") == "no budget law"
    at.radio(key="budget_pc_measure").set_value("allocation").run()
    assert baghdad("2021") == "62,500"
    at.radio(key="budget_pc_measure").set_value("expenditure").run()
    at.radio(key="budget_pc_currency").set_value("USD").run()
    assert baghdad("2021") == "33.65"
    at.radio(key="budget_pc_currency").set_value("constant IQD").run()
    assert baghdad("2021") == "48,611"
    assert any("constant IQD of 2023" in c.value for c in at.caption)
    compare = at.dataframe[2].value
    row = compare[(compare["Governorate"].str.startswith("Baghdad")) & (compare["Fiscal year"] == 2021)].iloc[0]
    assert row["Executed / original allocation (PI-1)"] == "70.0%"
    assert row["Executed / revised allocation"] == "80.0%"


def test_older_warehouse_budget_page_explains_what_is_missing(monkeypatch, scratch_warehouse: Path) -> None:
    at = _open(monkeypatch, scratch_warehouse, BUDGET)
    info = " ".join(i.value for i in at.info)
    assert "predates per-capita amounts" in info and "no `marts.fct_budget_pefa`" in info
    assert not at.error


def test_new_queries_on_an_older_warehouse_are_empty_with_their_columns(scratch_warehouse: Path) -> None:
    from dashboards import queries

    assert queries.budget_pefa(scratch_warehouse).is_empty()
    assert set(queries.PEFA_COLUMNS) <= set(queries.budget_pefa(scratch_warehouse, source_id="x").columns)
    svs = queries.service_vs_spending(scratch_warehouse)
    assert svs.is_empty() and svs.columns == list(queries.SERVICE_SPENDING_COLUMNS)
    assert queries.fiscal_years(scratch_warehouse).is_empty()
    budget = queries.budget_execution(scratch_warehouse)
    assert set(queries.BUDGET_COLUMNS) <= set(budget.columns) and budget["is_partial"].null_count() == budget.height
