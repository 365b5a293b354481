"""Sectors by their question-bank names, estimates from a wave on a declared scale, and the Data quality
sections for submissions flagged for review and repeat-group accounting.

On the scratch warehouses (``scratch_warehouses.py``: planted review flags, a repeat group that does not
balance, a 4-point wave 2023-01 of demo_services), the legacy warehouse (none of the new tables or columns:
the sections are left out, sectors fall back to their ids in words) and the pipeline-built demo warehouse
(``tests/conftest.py``: firm B's SPSS wave on a 4-point scale with its planted soft duplicate).
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import queries
from dashboards import tables as T
from scratch_warehouses import REPEAT_GROUP_ACCOUNTS, REVIEW_FLAGS, SCALE_NOTE, SCRATCH_RUN_ID
from test_dashboard_pages import PAGES, assert_no_suppressed_values, rendered_text

OVERVIEW, EXPLORER, QUALITY = (PAGES[p] for p in ("Overview", "Indicator explorer", "Data quality"))
FIRM_B_NOTE = "4-point scale, top box (source codes 1, 2)"
#: the question bank's sectors, in its order (data_contracts/question_bank.yaml), those the demo estimates
DEMO_SECTORS = ["Water", "Electricity", "Health", "Education", "Waste collection and municipal services",
                "Roads and transport", "Local government, accountability and trust"]


def _select(at: AppTest, **values: str) -> None:
    for key, value in values.items():
        at.selectbox(key=key).set_value(value).run()
        assert not at.exception, [e.value for e in at.exception]


def _frame_with(at: AppTest, *columns: str):
    found = [d.value for d in at.dataframe if set(columns) <= set(d.value.columns)]
    assert found, f"no table with the columns {columns!r}"
    return found[0]


def _csv(data: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(data.removeprefix(b"\xef\xbb\xbf")), infer_schema=False)


# --------------------------------------------------------------------------------------
# queries
# --------------------------------------------------------------------------------------
def test_review_flags_query(scratch_warehouse: Path, legacy_warehouse: Path) -> None:
    flags = queries.review_flags(scratch_warehouse)
    assert flags.columns == list(queries.REVIEW_FLAG_COLUMNS)
    assert flags.select("source_id", "wave_id", "flag", "row_number", "other_row_number", "similarity",
                        "fields_compared").rows() == [
        ("demo_services", "2024-01", "soft_duplicate", 41, 57, 0.962264, 26)]
    assert queries.review_flags(scratch_warehouse, run_id=SCRATCH_RUN_ID).height == 1
    assert queries.review_flags(scratch_warehouse, run_id="run-001").is_empty()
    old = queries.review_flags(legacy_warehouse, run_id="run-001")  # no table: empty, same columns
    assert old.is_empty() and old.columns == list(queries.REVIEW_FLAG_COLUMNS)


def test_repeat_group_accounts_query(scratch_warehouse: Path, legacy_warehouse: Path) -> None:
    groups = queries.repeat_group_accounts(scratch_warehouse)
    assert groups.select("repeat_group", "rows_read", "rows_unaccounted", "accounting_ok").rows() == [
        ("members", 1312, 0, True), ("water_points", 90, 2, False)]
    assert len(REPEAT_GROUP_ACCOUNTS) == 2
    assert queries.repeat_group_accounts(legacy_warehouse).is_empty()
    display = T.repeat_groups_display(groups)
    assert display["Read = loaded + excluded + quarantined"].to_list() == ["✓ balanced", "✗ +2 row(s) unaccounted"]


def test_sector_names_come_from_the_question_bank(scratch_warehouse: Path, legacy_warehouse: Path,
                                                  demo_warehouse: Path) -> None:
    assert set(queries.indicators(scratch_warehouse).select("sector_name", "sector_order").rows()) == {("Water", 1)}
    # a warehouse from before the columns: the sector id in words, no order
    assert set(queries.indicators(legacy_warehouse).select("sector_name", "sector_order").rows()) == {("Water", None)}
    demo = queries.indicators(demo_warehouse)
    names = demo.select("sector_name", "sector_order").unique().sort("sector_order")
    assert names["sector_name"].to_list() == [*DEMO_SECTORS, "Safety and protection"]
    assert demo["sector_order"].is_sorted()  # ordered by sector
    arabic = dict(demo.select("sector", "sector_name_ar").unique().iter_rows())  # question_bank.yaml `ar:`
    assert (arabic["water"], arabic["roads"]) == ("المياه", "الطرق والنقل")
    # a warehouse from before the Arabic names: the English one stands in
    assert set(queries.indicators(legacy_warehouse)["sector_name_ar"]) == {"Water"}
    options = queries.indicator_options(demo_warehouse)
    assert options["sector_name"].unique(maintain_order=True).to_list() == DEMO_SECTORS


def test_scale_note_of_estimates(scratch_warehouse: Path, legacy_warehouse: Path) -> None:
    rows = queries.service_estimates(scratch_warehouse, indicator_id="water_service_good", wave_id="2023-01")
    assert set(rows["scale_note"]) == {SCALE_NOTE}
    # a fact of the wave, kept on a suppressed cell, which still shows no estimate
    basra = rows.filter((pl.col("governorate_pcode") == "IQG02") & (pl.col("disaggregation") == "all"))
    assert basra.select("is_suppressed", "estimate", "scale_note").row(0) == (True, None, SCALE_NOTE)
    later = queries.service_estimates(scratch_warehouse, indicator_id="water_service_good", wave_id="2024-01")
    assert later["scale_note"].null_count() == later.height
    assert queries.service_estimates(legacy_warehouse)["scale_note"].null_count() > 0  # no mart: NULL


def test_headline_summary_carries_sectors_and_scale(demo_warehouse: Path) -> None:
    summary = queries.headline_summary(demo_warehouse)
    assert summary["sector_order"].is_sorted()
    notes = {(r["indicator_id"], r["source_id"]): r["scale_note"] for r in summary.iter_rows(named=True)}
    assert notes[("water_service_good", "mizan_demo_firm_b")] == FIRM_B_NOTE
    assert notes[("water_service_poor", "mizan_demo_firm_b")] == "4-point scale, bottom box (source codes 3, 4)"
    assert notes[("electricity_service_good", "mizan_demo_firm_b")] == FIRM_B_NOTE
    assert notes[("local_government_trusted", "mizan_demo_firm_b")] is None  # the bank's own 4-point scale
    assert {n for (i, s), n in notes.items() if s == "mizan_demo_national"} == {None}


# --------------------------------------------------------------------------------------
# Data quality: flagged submissions and repeat groups
# --------------------------------------------------------------------------------------
def test_data_quality_shows_flags_and_repeat_groups(open_app, scratch_warehouse: Path) -> None:
    at = open_app(scratch_warehouse, QUALITY)
    headers = [s.value for s in at.subheader]
    assert "Submissions flagged for review" in headers and "Repeat groups" in headers
    flags = _frame_with(at, "Similarity")
    assert flags[["Submission", "Other submission", "Similarity", "Fields compared"]].values.tolist() == [
        ["demo_2024.csv · row 41", "demo_2024.csv · row 57", "96.2%", 26]]
    assert flags["Flag"].tolist() == ["soft duplicate (near-identical interviews of one enumerator)"]
    assert flags["Detail"].tolist() == [REVIEW_FLAGS[0]["detail"]]
    groups = _frame_with(at, "Repeat group")
    assert groups["Repeat group"].tolist() == ["members", "water_points"]
    assert any("does not balance" in e.value and "water_points" in e.value for e in at.error)
    assert not any("predates `audit.review_flags`" in c.value for c in at.caption)
    # the run filter applies: an earlier run of the snapshot flagged nothing
    at.selectbox(key="dq_run").set_value("run-001").run()
    assert not at.exception
    assert any(s.value == "No submission is flagged for review." for s in at.success)


def test_data_quality_with_empty_tables(open_app, sparse_warehouse: Path) -> None:
    at = open_app(sparse_warehouse, QUALITY)
    assert any(s.value == "No submission is flagged for review." for s in at.success)
    assert any(i.value.startswith("No file in this snapshot delivered repeat groups") for i in at.info)


def test_data_quality_on_the_demo_names_firm_b_pair_without_personal_data(open_app, demo_warehouse: Path) -> None:
    at = open_app(demo_warehouse, QUALITY)
    flags = _frame_with(at, "Similarity")
    flags = flags[flags["Source"] == "mizan_demo_firm_b"]  # the training source flags a post-test without a pre-test
    assert flags[["Source", "Wave", "Submission", "Id", "Other submission", "Other id", "Similarity",
                  "Fields compared"]].values.tolist() == [
        ["mizan_demo_firm_b", "2025", "firm_b_wave_2025.sav · row 1055", "B25-01055",
         "firm_b_wave_2025.sav · row 1062", "B25-01062", "92.9%", 14]]
    assert flags["Detail"].iloc[0].startswith("same enumerator (enum_id = '502')")
    text = rendered_text(at)
    assert "SYNTHETIC NAME" not in text and "+964" not in text  # no names or phone numbers on the page
    assert any(i.value.startswith("No file in this snapshot delivered repeat groups") for i in at.info)
    excluded = _frame_with(at, "Reason", "Files")  # the exclusions table (source, reason, rows, files)
    assert "review status not_approved (qc_status = 'not approved')" in set(excluded["Reason"])
    quarantined = _frame_with(at, "Reason", "Failing cells")
    assert any(r.startswith("respondent id repeated with different answers") for r in quarantined["Reason"])


# --------------------------------------------------------------------------------------
# sectors on the Overview and in the explorer
# --------------------------------------------------------------------------------------
def test_overview_groups_headlines_by_sector_and_states_the_scale(open_app, demo_warehouse: Path) -> None:
    at = open_app(demo_warehouse, OVERVIEW)
    at.toggle(key="overview_include_provisional").set_value(True).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(dict.fromkeys(table["Sector"])) == DEMO_SECTORS  # grouped, in the question bank's order
    roads = table[table["Sector"] == "Roads and transport"]
    assert roads["Indicator"].tolist() == ["Condition of roads rated good or excellent"]
    lg = table[table["Sector"] == "Local government, accountability and trust"]
    assert set(lg["Indicator"]) == {"Complaints that led to action", "Local government's responsiveness rated good "
                                    "or excellent", "Trust in local government (a great deal or quite a lot)"}
    firm_b = table[table["Source · wave"] == "mizan_demo_firm_b · 2025"].set_index("Indicator")["Scale"]
    assert firm_b["Municipal water service rated good or excellent"] == FIRM_B_NOTE
    assert firm_b["Municipal water service rated poor or very poor"] == "4-point scale, bottom box (source codes 3, 4)"
    assert firm_b["Trust in local government (a great deal or quite a lot)"] == ""
    assert set(table[table["Source · wave"].str.startswith("mizan_demo_national")]["Scale"]) == {""}
    caption = next(c.value for c in at.caption if c.value.startswith("Scale:"))
    assert "mizan_demo_firm_b" in caption and "no middle answer" in caption
    # one governorate firm B covered: its estimate carries the scale too
    at.selectbox(key="overview_governorate").set_value("IQG02").run()
    snapshot = _frame_with(at, "Median across governorates")
    basra = snapshot[(snapshot["Source · wave"] == "mizan_demo_firm_b · 2025")
                     & (snapshot["Indicator"] == "Municipal water service rated good or excellent")]
    assert basra["Scale"].tolist() == [FIRM_B_NOTE] and basra["Estimate"].iloc[0].endswith("%")


def test_explorer_filters_indicators_by_sector(open_app, demo_warehouse: Path) -> None:
    at = open_app(demo_warehouse, EXPLORER)
    assert at.selectbox(key="explorer_sector").options == ["All sectors", *DEMO_SECTORS]
    all_options = at.selectbox(key="explorer_indicator").options
    assert len(all_options) == 16
    _select(at, explorer_sector="Roads and transport")
    assert at.selectbox(key="explorer_indicator").options == ["Condition of roads rated good or excellent"]
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert "**Sector:** Roads and transport" in md
    assert "**Answer scale:** the question bank's" in md
    _select(at, explorer_sector="Local government, accountability and trust")
    assert at.selectbox(key="explorer_indicator").options == [
        "Complaints that led to action", "Local government's responsiveness rated good or excellent",
        "Trust in local government (a great deal or quite a lot)"]


def test_explorer_says_a_wave_is_on_a_declared_scale(open_app, downloads, demo_warehouse: Path) -> None:
    at = open_app(demo_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="mizan_demo_firm_b|2025",
            explorer_disaggregation="all")
    info = next(i.value for i in at.info if i.value.startswith("**Scale:**"))
    assert FIRM_B_NOTE in info and "top box" in info
    table = _frame_with(at, "Scale")
    assert len(table) == 6 and set(table["Scale"]) == {FIRM_B_NOTE}  # six governorates, no national row
    assert "Iraq (national)" not in set(table["Area"])
    chart = next(c for c in at.get("plotly_chart") if "explorer_bars" in c.proto.id)
    assert FIRM_B_NOTE in chart.proto.spec
    md = "\n".join(m.value for m in at.markdown).replace("\\", "")
    assert f"**Answer scale:** {FIRM_B_NOTE}" in md
    csv = _csv(downloads.estimates)
    assert set(csv["scale_note"]) == {FIRM_B_NOTE} and set(csv["source_id"]) == {"mizan_demo_firm_b"}
    # the national survey's wave: the question bank's scale, no note
    _select(at, explorer_wave="mizan_demo_national|2025")
    assert not any(i.value.startswith("**Scale:**") for i in at.info)
    assert set(_frame_with(at, "Scale")["Scale"]) == {""}
    csv = _csv(downloads.estimates)
    assert csv["scale_note"].null_count() == csv.height


def test_scale_note_never_carries_a_suppressed_value(open_app, downloads, scratch_warehouse: Path,
                                                     scratch_suppressed_values) -> None:
    """The 4-point wave of the scratch warehouse has a suppressed cell: the note is shown, the value is not."""
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2023-01",
            explorer_disaggregation="all")
    assert any(i.value.startswith("**Scale:**") and SCALE_NOTE in i.value for i in at.info)
    table = _frame_with(at, "Scale")
    basra = table[table["P-code"] == "IQG02"].iloc[0]
    assert basra["Scale"] == SCALE_NOTE and basra["Estimate"].startswith("suppressed")
    text = rendered_text(at)
    assert_no_suppressed_values(text, "explorer (4-point wave)", scratch_suppressed_values)
    csv_text = downloads.estimates.decode("utf-8-sig")
    assert_no_suppressed_values(csv_text, "estimates CSV (4-point wave)", scratch_suppressed_values)
    assert re.search(r"IQG02,.*" + re.escape(SCALE_NOTE), csv_text)


def test_change_across_scales_is_flagged(open_app, scratch_warehouse: Path) -> None:
    """demo_services rated water on 4 points in 2023-01 and on the question bank's 5 in 2024-01."""
    at = open_app(scratch_warehouse, EXPLORER)
    _select(at, explorer_indicator="water_service_good", explorer_wave="demo_services|2024-01",
            explorer_disaggregation="all")
    warning = next(w.value for w in at.warning if w.value.startswith("The two waves were asked on different"))
    assert f"`2023-01`: {SCALE_NOTE}" in warning and "`2024-01`: the question bank’s scale" in warning
    _select(at, explorer_indicator="water_piped_hours_mean")  # the same scale in both waves: nothing to say
    assert not any(w.value.startswith("The two waves were asked on different") for w in at.warning)
