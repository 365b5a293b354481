"""What the dashboard shows of the new survey engine (marts of the current build):

1. the estimation rules come from the snapshot (``marts.dim_estimation_rules``), on screen and in
   every CSV, with the old sentence only for a warehouse without the table;
2. national estimates (IQ) are shown as such and never counted, ranked or listed as a governorate;
3. change between waves: a change that is not significant is never worded as a change, a
   significant one is; a pair with a suppressed side carries no number;
4. answer distributions: 100 % stacked bars and a table; a suppressed distribution shows no share;
5. readable breakdown labels; 6. design facts (single-PSU rule, CI method, weights) in the explorer
   and on the Data quality page.

Scratch layouts come from ``scratch_warehouses.py``; ``demo_warehouse`` / ``real_warehouse`` are the
pipeline-built fixtures of tests/conftest.py (shared with the other dashboard tests).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries
from dashboards import tables as T
from scratch_warehouses import (
    DEFAULT_RULES, PLANTED_SHARES, SUPPRESSED_VALUES, UNDECIDED, publish_scratch, rule_text,
)
from test_dashboard_pages import PAGES, assert_no_suppressed_values, rendered_text

OVERVIEW, EXPLORER, QUALITY, BUDGET = (PAGES[p] for p in ("Overview", "Indicator explorer", "Data quality",
                                                           "Budget execution"))
#: Words that call something a change (or judge it): never in a row that is not a significant change.
CHANGE_WORDS = re.compile(
    r"\b(rose|fell|increas\w*|decreas\w*|improv\w*|deteriorat\w*|better|worse|up|down|grew|dropped)\b|[↑↓▲▼]",
    re.IGNORECASE,
)
#: Rules of a snapshot built with other thresholds than the defaults.
STRICT_RULES = {"min_n": 50, "min_n_eff": 40, "ci_width": 0.25, "relative_width": 1.0}


def _csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.StringIO(data.decode("utf-8-sig")), infer_schema=False)


def _select(at: AppTest, **values: str) -> None:
    for key, value in values.items():
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, [e.value for e in at.exception]


def _plotly(at: AppTest, key: str) -> dict:
    charts = [c for c in at.get("plotly_chart") if c.proto.id.endswith(key) or key in c.proto.id]
    assert charts, f"no chart {key}"
    return json.loads(charts[0].proto.spec)


def _frames(at: AppTest) -> list:
    return [d.value for d in at.dataframe]


def _frame_with(at: AppTest, column: str):
    found = [f for f in _frames(at) if column in f.columns]
    assert found, f"no table with a column {column!r}"
    return found[0]


# --------------------------------------------------------------------------------------
# 1. the rules come from the snapshot
# --------------------------------------------------------------------------------------
def test_rule_text_comes_from_the_snapshot(open_app, downloads, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, rules=STRICT_RULES)
    strict = rule_text(**{**DEFAULT_RULES, **STRICT_RULES})
    default = rule_text(**DEFAULT_RULES)
    assert "n < 50" in strict and "effective n < 40" in strict and "25 percentage points" in strict
    assert "100% of the estimate" in strict and strict != default

    rules = queries.estimation_rules(pointer).row(0, named=True)
    assert (rules["origin"], rules["suppression_min_n"], rules["rule_text"]) == ("snapshot", 50, strict)

    at = open_app(pointer, OVERVIEW)
    captions = [c.value for c in at.caption]
    assert strict in captions and default not in captions and T.SUPPRESSION_RULE not in captions

    at = open_app(pointer, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    assert strict in [c.value for c in at.caption]
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    # the reference sheet states the snapshot's rule (not the registry's text)
    assert f"**Suppression rule:** {strict.removeprefix('Suppression rule: ')}" in md
    for d in (downloads.estimates, downloads.changes):
        csv = _csv(d)
        assert set(csv["estimation_rules"]) == {strict}, d.file_name
        assert csv.height >= 5
    downloads.clear()
    _select(at, explorer_indicator="water_service_rating_distribution")
    assert set(_csv(downloads.estimates)["estimation_rules"]) == {strict}


def test_a_warehouse_without_rules_reads_the_old_rule(legacy_warehouse: Path) -> None:
    rules = queries.estimation_rules(legacy_warehouse).row(0, named=True)
    assert (rules["origin"], rules["rule_text"], rules["suppression_min_n"]) == ("fallback", T.SUPPRESSION_RULE, 30)


# --------------------------------------------------------------------------------------
# 2. national estimates: shown, never a governorate
# --------------------------------------------------------------------------------------
def test_overview_shows_the_national_estimate_and_never_counts_it(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, OVERVIEW)
    assert at.selectbox(key="overview_governorate").options == [  # labels of IQG02, IQG08, IQG11, IQG15
        "Al-Basrah · البصرة", "Baghdad · بغداد", "Erbil · اربيل", "Ninewa · نينوى"]
    headline = at.dataframe[0].value
    demo = headline[(headline["Source · wave"] == "demo_services · 2024-01")
                    & (headline["Indicator"] == "Municipal water service rated good or excellent")].iloc[0]
    assert (demo["Headline"], demo["Headline is"], demo["Range or 95% CI"]) == (
        "60.0%", "design-based national estimate for Iraq", "57.8–62.1% (95% CI)")
    assert demo["Governorates with an estimate"] == 4
    assert demo["Across governorates"] == "median 62.0%, range 52.0% to 77.0% (4 governorates)"

    _select(at, overview_governorate="IQG08")
    snap = at.dataframe[1].value
    row = snap[(snap["Source · wave"] == "demo_services · 2024-01")
               & (snap["Indicator"] == "Municipal water service rated good or excellent")].iloc[0]
    assert (row["Area"], row["Estimate"], row["Median across governorates"], row[T.NATIONAL_LABEL]) == (
        "Baghdad", "66.0%", "62.0%", "60.0% (57.8–62.1%)")
    assert set(snap["Area"]) <= {"Baghdad", "Ninewa — Tal Afar city only", "–"}

    trend = _plotly(at, "overview_trend_chart")
    names = [t["name"] for t in trend["data"]]
    assert any(n.startswith(f"{T.NATIONAL_LABEL} — demo_services") for n in names)
    median = next(t for t in trend["data"] if t["name"].startswith("median of governorates"))
    assert median["y"] == [48.0, 62.0]  # governorates only: IQ (56 %, 60 %) is not in the median
    national = next(t for t in trend["data"] if t["name"].startswith(T.NATIONAL_LABEL))
    assert national["y"] == [56.0, 60.0]


def test_explorer_keeps_the_national_estimate_apart(open_app, downloads, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    metric = next(m for m in at.metric if m.label == "Governorates with an estimate")
    assert metric.value == "4"
    table = at.dataframe[0].value
    assert table["Area"].tolist() == [T.NATIONAL_LABEL, "Al-Basrah", "Baghdad", "Erbil", "Ninewa"]
    md = "\n".join(m.value for m in at.markdown)
    assert f"**{T.NATIONAL_LABEL}**" in md and "**60.0%** (95% CI 57.8–62.1%)" in md
    bars = _plotly(at, "explorer_bars")
    governorate_traces = [t for t in bars["data"] if not t["name"].startswith(T.NATIONAL_LABEL)]
    assert all(T.NATIONAL_LABEL not in y for t in governorate_traces for y in t["y"])
    national = next(t for t in bars["data"] if t["name"].startswith(T.NATIONAL_LABEL))
    assert national["y"] == [T.NATIONAL_LABEL]
    # national on top: the last category of the y axis (plotly draws the first at the bottom)
    assert bars["layout"]["yaxis"]["categoryarray"][-1] == T.NATIONAL_LABEL
    assert any(s.get("x0") == 60.0 for s in bars["layout"].get("shapes", []))  # the reference line
    csv = _csv(downloads.estimates)
    assert csv.filter(pl.col("governorate_pcode") == "IQ")["area_level"].to_list() == ["national"]
    assert set(csv.filter(pl.col("governorate_pcode") != "IQ")["area_level"]) == {"governorate"}

    _select(at, explorer_disaggregation="hoh_sex")
    table = at.dataframe[0].value
    assert table["Area"].tolist()[:2] == [T.NATIONAL_LABEL, T.NATIONAL_LABEL]
    assert next(m for m in at.metric if m.label == "Governorates with an estimate").value == "2"


def test_queries_keep_national_out_of_governorate_summaries(scratch_warehouse: Path) -> None:
    summary = queries.headline_summary(scratch_warehouse)
    demo = summary.filter(pl.col("source_id") == "demo_services", pl.col("indicator_id") == "water_service_good")
    row = demo.row(0, named=True)
    assert (row["n_governorates"], row["median_estimate"], row["min_estimate"], row["max_estimate"]) == (
        4, pytest.approx(0.62), 0.52, 0.77)
    assert (row["has_national"], row["national_estimate"], row["national_ci_lower"], row["national_ci_upper"],
            row["national_is_suppressed"]) == (True, 0.60, 0.578, 0.621, False)
    talafar = summary.filter(pl.col("source_id") == "talafar_water_2021").row(0, named=True)
    assert (talafar["has_national"], talafar["national_estimate"]) == (False, None)
    est = queries.service_estimates(scratch_warehouse, disaggregation="all")
    medians = T.wave_medians(est).filter(pl.col("indicator_id") == "water_service_good")
    assert dict(medians.select("wave_id", "n_governorates").iter_rows()) == {"2023-01": 3, "2024-01": 4, "2021-07": 1}
    # the budget grid lists governorates only
    sigir = queries.budget_execution(scratch_warehouse, source_id="sigir_provincial_capital")
    grid = T.budget_matrix(sigir, queries.governorates(scratch_warehouse))
    assert not any(T.NATIONAL_LABEL in g or g.startswith("Iraq") for g in grid["governorates"])


def test_demo_warehouse_national_estimates(open_app, demo_warehouse: Path) -> None:
    """The synthetic national survey: 19 governorates (18 + Halabja) and IQ; IQ is never an option
    or a governorate count, the national estimate heads the Overview."""
    at = open_app(demo_warehouse, OVERVIEW)
    at.toggle(key="overview_include_provisional").set_value(True).run()
    assert not at.exception
    options = at.selectbox(key="overview_governorate").options
    assert len(options) == 19 and not any(o.startswith("Iraq") or "العراق" in o for o in options)
    table = at.dataframe[0].value
    headline = table[table["Source · wave"].str.startswith("mizan_demo_national")]
    # complaints that led to action: few complainants in small governorates, 6 of 19 cells suppressed
    complaints = headline["Indicator"] == "Complaints that led to action"
    assert set(headline[~complaints]["Governorates with an estimate"]) == {19}
    assert list(headline[complaints]["Governorates with an estimate"]) == [13]
    assert set(headline["Headline is"]) == {"design-based national estimate for Iraq"}
    # firm B reached 6 governorates: no national estimate, the median of its governorates heads its rows
    firm_b = table[table["Source · wave"] == "mizan_demo_firm_b · 2025"]
    assert len(firm_b) == 6 and set(firm_b["Governorates with an estimate"]) == {6}
    assert set(firm_b["Headline is"]) == {"median of 6 governorate estimates"}
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        national = con.execute(
            "SELECT estimate FROM marts.fct_service_indicators WHERE governorate_pcode = 'IQ' "
            "AND indicator_id = 'water_service_good' AND disaggregation = 'all' AND wave_id = '2025'"
        ).fetchone()[0]
    finally:
        con.close()
    water = headline[headline["Indicator"] == "Municipal water service rated good or excellent"].iloc[0]
    assert water["Headline"] == f"{national * 100:.1f}%"


# --------------------------------------------------------------------------------------
# 3. change between waves
# --------------------------------------------------------------------------------------
def _change(**kw) -> dict:
    base = {"indicator_type": "proportion", "unit": "proportion", "direction": "higher_is_better",
            "is_comparable": True, "not_comparable_reason": None}
    return {**base, **kw}


def test_change_wording() -> None:
    quiet = T.change_text(_change(difference=0.05, ci_lower=-0.032, ci_upper=0.132, is_significant=False))
    assert quiet == "no significant change (95% CI −3.2 to +13.2 points)"
    assert not CHANGE_WORDS.search(quiet)
    down = T.change_text(_change(difference=-0.02, ci_lower=-0.05, ci_upper=0.01, is_significant=False,
                                 direction="lower_is_better"))
    assert down == "no significant change (95% CI −5.0 to +1.0 points)" and not CHANGE_WORDS.search(down)
    rose = T.change_text(_change(difference=0.04, ci_lower=0.0102, ci_upper=0.0698, is_significant=True))
    assert rose == "rose by 4.0 points (95% CI +1.0 to +7.0) — an improvement"
    fell_good = T.change_text(_change(difference=-0.035, ci_lower=-0.061, ci_upper=-0.010, is_significant=True,
                                      direction="lower_is_better"))
    assert fell_good == "fell by 3.5 points (95% CI −6.1 to −1.0) — an improvement"
    neutral = T.change_text(_change(difference=-0.035, ci_lower=-0.061, ci_upper=-0.010, is_significant=True,
                                    direction=None))
    assert neutral == "fell by 3.5 points (95% CI −6.1 to −1.0)"
    hours = T.change_text(_change(indicator_type="mean", unit="hours/day", difference=-0.30, ci_lower=-0.71,
                                  ci_upper=0.11, is_significant=False))
    assert hours == "no significant change (95% CI −0.7 to +0.1 h/day)"
    # a bound a hair above zero keeps its sign
    assert T.change_text(_change(difference=-0.035, ci_lower=-0.0704, ci_upper=0.000022, is_significant=False)) == (
        "no significant change (95% CI −7.0 to +0.0 points)")
    # not comparable: the reason only, never a number (even if one was given)
    hidden = T.change_text(_change(is_comparable=False, not_comparable_reason="suppressed in 2023-01",
                                   difference=0.456544, ci_lower=0.36, ci_upper=0.55, is_significant=True))
    assert hidden == "no comparison: suppressed in 2023-01"


def test_explorer_change_table_words_changes_by_significance(
    open_app, downloads, scratch_warehouse: Path
) -> None:
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    assert any(s.value.startswith("Change since the previous wave (2023-01 → 2024-01)") for s in at.subheader)
    changes = _frame_with(at, "Significant (95%)")
    by_area = {r["Area"]: r for _, r in changes.iterrows()}
    assert list(by_area) == [T.NATIONAL_LABEL, "Al-Basrah", "Baghdad", "Erbil", "Ninewa"]
    assert by_area[T.NATIONAL_LABEL]["Change"] == "rose by 4.0 points (95% CI +1.0 to +7.0) — an improvement"
    assert by_area["Erbil"]["Change"] == "rose by 42.0 points (95% CI +19.2 to +64.8) — an improvement"
    assert by_area["Baghdad"]["Change"] == "no significant change (95% CI −3.2 to +13.2 points)"
    assert by_area["Ninewa"]["Change"] == "no significant change (95% CI −5.7 to +13.7 points)"
    for _, r in changes.iterrows():
        if r["Significant (95%)"] == "yes":
            assert re.match(r"^(rose|fell) by ", r["Change"]), r["Change"]
        else:  # not significant, or not comparable: no word of change, in any column
            assert not CHANGE_WORDS.search(" ".join(str(v) for v in r.values)), r.to_dict()
    basra = by_area["Al-Basrah"]
    assert basra["Change"] == "no comparison: suppressed in 2023-01"
    assert {basra[c] for c in ("Earlier", "Later", "Difference, 95% CI", "SE", "Significant (95%)")} == {T.DASH}
    assert basra["df"] is None or basra["df"] != basra["df"]  # blank (None / NaN)
    # the planted numbers of the suppressed pair never reach the screen or the CSV
    assert_no_suppressed_values(rendered_text(at), "explorer change table", SUPPRESSED_VALUES)
    csv = _csv(downloads.changes)
    assert_no_suppressed_values(downloads.changes.decode("utf-8-sig"), "change CSV", SUPPRESSED_VALUES)
    row = csv.filter(pl.col("governorate_pcode") == "IQG02").row(0, named=True)
    assert [row[c] for c in ("estimate_from", "estimate_to", "difference", "std_error", "degrees_of_freedom",
                             "ci_lower", "ci_upper", "is_significant")] == [None] * 8
    assert (row["not_comparable_reason"], row["change"]) == ("suppressed in 2023-01", "no comparison: suppressed in 2023-01")
    national = csv.filter(pl.col("governorate_pcode") == "IQ").row(0, named=True)
    assert (national["difference"], national["is_significant"], national["area_level"]) == ("0.04", "true", "national")

    _select(at, explorer_wave="demo_services|2023-01")  # the first wave: nothing to compare with
    assert any("first wave of `demo_services`" in i.value for i in at.info)


def test_overview_change_for_a_governorate_and_the_nation(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, OVERVIEW)
    _select(at, overview_governorate="IQG08")
    table = _frame_with(at, "Change")
    assert table[["Area", "Waves", "Change"]].values.tolist() == [
        ["Baghdad", "2023-01 → 2024-01", "no significant change (95% CI −3.2 to +13.2 points)"],
        [T.NATIONAL_LABEL, "2023-01 → 2024-01", "rose by 4.0 points (95% CI +1.0 to +7.0) — an improvement"],
    ]
    assert set(table["Approval"]) == {"approved"}
    _select(at, overview_governorate="IQG02")
    table = _frame_with(at, "Change")
    basra = table[table["Area"] == "Al-Basrah"].iloc[0]
    assert (basra["Earlier"], basra["Later"], basra["Change"]) == (T.DASH, T.DASH, "no comparison: suppressed in 2023-01")
    assert_no_suppressed_values(rendered_text(at), "overview change of Basrah", SUPPRESSED_VALUES)


def test_overview_change_respects_wave_approval(open_app, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, approvals={("demo_services", "2024-01"): UNDECIDED})
    at = open_app(pointer, OVERVIEW)
    assert not [f for f in _frames(at) if "Change" in f.columns]
    assert any(i.value.startswith("No change to show") and "both approved" in i.value for i in at.info)
    at.toggle(key="overview_include_provisional").set_value(True).run()
    _select(at, overview_governorate="IQG15")
    table = _frame_with(at, "Change")
    assert set(table["Approval"]) == {"provisional (2024-01 not approved)"}
    assert table["Change"].tolist() == [
        "no significant change (95% CI −5.7 to +13.7 points)",
        "rose by 4.0 points (95% CI +1.0 to +7.0) — an improvement",
    ]


def test_demo_warehouse_changes_are_worded_by_significance(open_app, demo_warehouse: Path) -> None:
    con = duckdb.connect(str(demo_warehouse), read_only=True)
    try:
        expected = dict(con.execute(
            "SELECT governorate_pcode, is_significant FROM marts.fct_indicator_change "
            "WHERE indicator_id = 'water_service_good' AND wave_to = '2025' AND disaggregation = 'all'"
        ).fetchall())
    finally:
        con.close()
    assert set(expected.values()) == {True, False}  # the demo has both kinds of change to word
    at = open_app(demo_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="mizan_demo_national|2025",
            explorer_disaggregation="all")
    changes = _frame_with(at, "Significant (95%)")
    assert len(changes) == len(expected) == 20 and changes.iloc[0]["Area"] == T.NATIONAL_LABEL
    for _, r in changes.iterrows():
        significant = expected[r["P-code"]]
        if significant:
            assert re.match(r"^(rose|fell) by \d+\.\d points \(95% CI [+−]", r["Change"]), r["Change"]
        else:
            assert r["Change"].startswith("no significant change (95% CI "), r["Change"]
            assert not CHANGE_WORDS.search(r["Change"]), r["Change"]


# --------------------------------------------------------------------------------------
# 4. answer distributions
# --------------------------------------------------------------------------------------
def test_distribution_bars_table_and_csv(open_app, downloads, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, EXPLORER)
    assert "Rating of municipal water service (all answers) — answer distribution" in at.selectbox(
        key="explorer_indicator").options
    _select(at, explorer_indicator="water_service_rating_distribution", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    fig = _plotly(at, "explorer_distribution")
    assert fig["layout"]["barmode"] == "stack"
    bars = [t for t in fig["data"] if t["type"] == "bar"]
    assert [t["name"] for t in bars] == ["Excellent", "Good", "Adequate", "Poor", "Very poor"]  # scale order
    assert bars[0]["y"] == [T.NATIONAL_LABEL, "Baghdad", "Ninewa"]
    assert bars[0]["x"] == [15.0, 18.0, 12.0]
    assert fig["layout"]["yaxis"]["categoryarray"][-1] == T.NATIONAL_LABEL  # on top
    hidden = next(t for t in fig["data"] if t["type"] == "scatter")
    assert sorted(hidden["y"]) == ["Al-Basrah", "Erbil"]  # Erbil: one share flagged, hidden whole
    table = at.dataframe[0].value
    for area in ("Al-Basrah", "Erbil"):
        rows = table[table["Area"] == area]
        assert len(rows) == 1 and rows.iloc[0]["Answer"] == "all answers"
        assert rows.iloc[0]["Share"].startswith("suppressed") and rows.iloc[0]["95% CI"] == T.DASH
    national = table[table["Area"] == T.NATIONAL_LABEL]
    assert national["Answer"].tolist() == ["Excellent", "Good", "Adequate", "Poor", "Very poor"]
    assert national["Share"].tolist() == ["15.0%", "45.0%", "20.0%", "12.0%", "8.0%"]
    assert national["95% CI"].tolist()[0] == "11.0–19.0%"
    text = rendered_text(at)
    assert_no_suppressed_values(text, "distribution page", SUPPRESSED_VALUES)
    csv_text = downloads.estimates.decode("utf-8-sig")
    assert_no_suppressed_values(csv_text, "distribution CSV", SUPPRESSED_VALUES)
    for shares in PLANTED_SHARES.values():
        for v in shares:
            assert repr(v) not in text and repr(v) not in csv_text
    csv = _csv(downloads.estimates)
    for pcode in PLANTED_SHARES:
        rows = csv.filter(pl.col("governorate_pcode") == pcode)
        assert rows.height == 1
        r = rows.row(0, named=True)
        assert [r[c] for c in ("choice_code", "estimate", "ci_lower", "ci_upper", "std_error", "ci_method",
                               "n_effective", "design_effect", "excluded_share")] == [None] * 9
        assert r["is_suppressed"] == "true" and r["status"].startswith("suppressed")
    iq = csv.filter(pl.col("governorate_pcode") == "IQ")
    assert iq["choice_code"].to_list() == ["excellent", "good", "adequate", "poor", "very_poor"]
    assert iq["choice_label"].to_list() == ["Excellent", "Good", "Adequate", "Poor", "Very poor"]
    assert set(iq["area_level"]) == {"national"}


def test_real_distributions_hide_suppressed_areas(open_app, downloads, real_warehouse: Path) -> None:
    """IOM DTM water sufficiency: seven governorates are suppressed (small effective n); their
    shares appear nowhere, and the national distribution heads the chart."""
    con = duckdb.connect(str(real_warehouse), read_only=True)
    try:
        hidden = {r[0] for r in con.execute(
            "SELECT DISTINCT governorate_pcode FROM marts.fct_response_distribution "
            "WHERE indicator_id = 'water_sufficiency_distribution' AND disaggregation = 'all' AND is_suppressed"
        ).fetchall()}
    finally:
        con.close()
    assert hidden
    at = open_app(real_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_sufficiency_distribution", explorer_wave="iom_dtm_ila5_2020|2020-ILA5",
            explorer_disaggregation="all")
    csv = _csv(downloads.estimates)
    suppressed = csv.filter(pl.col("is_suppressed") == "true")
    assert set(suppressed["governorate_pcode"]) == hidden and suppressed.height == len(hidden)
    for col in ("estimate", "ci_lower", "ci_upper", "std_error", "ci_method", "n_effective", "design_effect"):
        assert suppressed[col].null_count() == suppressed.height, col
    fig = _plotly(at, "explorer_distribution")
    assert fig["layout"]["yaxis"]["categoryarray"][-1] == T.NATIONAL_LABEL
    assert [t["name"] for t in fig["data"] if t["type"] == "bar"] == [
        "All or nearly all", "Most", "Less than half", "Less than a quarter", "None"]


def test_overview_ignores_indicators_without_estimates(open_app, scratch_warehouse: Path) -> None:
    """The distribution indicator has no fct_service_indicators rows: the Overview works and says
    where it is shown."""
    at = open_app(scratch_warehouse, OVERVIEW)
    assert not at.exception and not at.error
    assert "Rating of municipal water service (all answers)" not in set(at.dataframe[0].value["Indicator"])
    assert any("Answer distributions" in c.value and "Indicator explorer" in c.value for c in at.caption)


# --------------------------------------------------------------------------------------
# 5. breakdown labels
# --------------------------------------------------------------------------------------
def test_breakdown_labels() -> None:
    assert T.disaggregation_name("all") == "None (all respondents)"
    assert T.disaggregation_name("hoh_sex") == "Sex of household head"
    assert T.disaggregation_name("urban_rural") == "Urban / rural"
    assert T.disaggregation_name("displacement_status") == "Displacement status: IDP / returnee / not displaced"
    assert T.disaggregation_name("district") == "District"
    assert T.disaggregation_name("camp_type") == "Camp type"
    assert T.disaggregation_label("displacement_status", "idp") == "IDPs (internally displaced)"
    assert T.disaggregation_label("displacement_status", "returnee") == "returnees"
    assert T.disaggregation_label("displacement_status", "non_displaced") == "not displaced"
    assert T.disaggregation_label("urban_rural", "rural") == "rural"
    assert T.disaggregation_label("hoh_sex", "female") == "female-headed households"
    assert T.disaggregation_label("district", "IQD0101") == "District: IQD0101"
    assert T.disaggregation_label("camp_type", "formal_camp") == "Camp type: formal camp"
    assert T.choice_label("less_than_quarter") == "Less than a quarter"
    assert T.choice_label("some_new_code") == "Some new code"
    assert T.ci_method_label("korn_graubard") == "Korn–Graubard"
    assert T.ci_method_label("clopper_pearson_neff") == "Clopper–Pearson (estimate 0 or 100 %)"


def test_demo_displacement_breakdown_is_readable(open_app, demo_warehouse: Path) -> None:
    at = open_app(demo_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="mizan_demo_national|2025")
    box = at.selectbox(key="explorer_disaggregation")
    assert "Displacement status: IDP / returnee / not displaced" in box.options
    assert "Urban / rural" in box.options
    _select(at, explorer_disaggregation="displacement_status")
    groups = set(at.dataframe[0].value["Group"])
    assert groups <= {"IDPs (internally displaced)", "returnees", "not displaced"} and len(groups) == 3


# --------------------------------------------------------------------------------------
# 6. design facts
# --------------------------------------------------------------------------------------
def test_explorer_states_single_psu_rule_and_ci_method(open_app, downloads, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_piped_hours_mean", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "**Single-PSU rule:** certainty units — the PSU of a single-PSU stratum is taken with certainty" in md
    assert "Strata delivered: 8, of which 1 with a single PSU" in md
    assert "**CI method:** requested t; used for the estimates shown: t (4)" in md
    assert "⚠ extreme weights (max/median 12.5 > 10)" in md
    assert "from the sample frame (N_h / n_h); post-stratification: to governorate population" in md
    table = at.dataframe[0].value
    assert set(table["Single-PSU rule"]) == {"certainty units"}
    basra = table[table["P-code"] == "IQG02"].iloc[0]  # suppressed: only the wave's rule is kept
    assert (basra["CI method"], basra["Extreme weights"]) == (T.DASH, T.DASH)
    csv = _csv(downloads.estimates)
    assert set(csv["single_psu_rule"]) == {"certainty_units"}
    hidden = csv.filter(pl.col("is_suppressed") == "true")
    for col in ("weight_ratio_max_median", "has_extreme_weights", "n_psu", "n_singleton_strata", "ci_method"):
        assert hidden[col].null_count() == hidden.height, col
    assert_no_suppressed_values(rendered_text(at) + downloads.estimates.decode("utf-8-sig"), "design facts",
                                SUPPRESSED_VALUES)
    published = csv.filter(pl.col("is_suppressed") == "false")
    assert set(published["ci_method"]) == {"t"} and published["weight_ratio_max_median"].null_count() == 0


def test_data_quality_survey_designs(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, QUALITY)
    assert any(s.value == "Survey designs" for s in at.subheader)
    designs = _frame_with(at, "Single-PSU rule")
    rows = {r["Wave"]: r for _, r in designs.iterrows()}
    new = rows["2024-01"]
    assert (new["Strata delivered"], new["Single-PSU strata delivered"], new["Single-PSU rule"], new["PSUs"],
            new["df"]) == (8, 1, "certainty units", 64, 56)
    assert (new["Weight method"], new["Post-stratification"]) == (
        "from the sample frame (N_h / n_h)", "to governorate population")
    assert (new["Weight min"], new["Weight median"], new["Weight max"], new["Max / median"]) == (
        "40.0", "320.0", "4,000.0", "12.5")
    assert new["Extreme weights"] == "⚠ extreme weights (max/median 12.5 > 10)"
    assert rows["2021-07"]["Extreme weights"] == "no (max/median 1.00)"
    assert rows["2021-07"]["Weight method"] == "equal weights"
    assert any("Extreme weights" in m.value and "`2024-01`" in m.value for m in at.markdown)


def test_real_data_quality_flags_dtm_extreme_weights(open_app, real_warehouse: Path) -> None:
    at = open_app(real_warehouse, QUALITY)
    designs = _frame_with(at, "Single-PSU rule")
    dtm = designs[designs["Source"] == "iom_dtm_ila5_2020"].iloc[0]
    assert dtm["Extreme weights"].startswith("⚠ extreme weights (max/median 114.4")
    assert dtm["National estimates"] == "yes"
    talafar = designs[designs["Source"] == "talafar_water_2021"].iloc[0]
    assert (talafar["Single-PSU strata delivered"], talafar["Single-PSU rule"], talafar["Weight method"]) == (
        1, "skip", "equal weights")


def test_a_suppressed_national_estimate_falls_back_to_the_governorates() -> None:
    row = {"indicator_type": "proportion", "unit": "proportion", "n_governorates": 4, "has_published": True,
           "median_estimate": 0.62, "min_estimate": 0.52, "max_estimate": 0.77, "has_national": True,
           "national_is_suppressed": True, "national_suppression_reason": "n < 30", "national_estimate": None,
           "source_id": "s", "wave_id": "w", "indicator_name": "x"}
    cells = T.headline_cells(row)
    assert (cells["Headline"], cells["Headline is"]) == ("62.0%", "median of 4 governorate estimates")
    flags = T.headline_display(pl.DataFrame([row]))["Flags"][0]
    assert flags == "national estimate suppressed (n < 30)"


def test_iq_is_national_without_area_level(open_app, scratch_warehouse_copy: Path) -> None:
    """A warehouse whose dim_governorate lacks area_level (between builds): IQ is still national."""
    con = duckdb.connect(str(scratch_warehouse_copy))
    try:
        con.execute("ALTER TABLE marts.dim_governorate DROP COLUMN area_level")
    finally:
        con.close()
    est = queries.service_estimates(scratch_warehouse_copy, wave_id="2024-01", disaggregation="all",
                                    indicator_id="water_service_good")
    assert dict(est.select("governorate_pcode", "area_level").iter_rows())["IQ"] == "national"
    assert set(queries.governorates(scratch_warehouse_copy).filter(pl.col("governorate_pcode") != "IQ")["area_level"]) == {
        "governorate"}
    at = open_app(scratch_warehouse_copy, OVERVIEW)
    assert len(at.selectbox(key="overview_governorate").options) == 4
    assert at.dataframe[0].value["Governorates with an estimate"].max() == 4
