"""Overview — for steering-committee members: headline indicators and trends."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, queries, ui
from dashboards import tables as T

path = ui.current_warehouse()

st.title("Overview")
st.caption(
    "Where each service indicator stands in the latest wave of each survey that published an "
    "estimate of it, and how it moved between waves. Estimates are made per governorate: there is "
    "**no national figure**, so the headline is the spread of governorate estimates (median and "
    "range). For a source with a single governorate, or covering only part of one (e.g. one "
    "city), the headline is that estimate itself with its 95% CI."
)
ui.suppression_caption()

if not ui.require_tables(path, queries.SERVICE_TABLES, "the indicator overview"):
    st.stop()

summary = ui.load("headline_summary", path)
if summary.is_empty():
    st.info("This warehouse has no indicator estimates yet.")
    st.stop()

ui.provenance_banner(summary)

# --- headline table ---------------------------------------------------------------------
st.subheader("Headline indicators — latest wave of each source")
st.dataframe(
    T.headline_display(summary),
    hide_index=True,
    column_config={
        "Coverage": st.column_config.TextColumn(
            help="governorate-wide, or the part of a governorate the source covers (e.g. one city)"
        ),
        "Governorates with an estimate": st.column_config.NumberColumn(
            help="Governorates with a published (not suppressed) estimate"
        ),
        "Headline": st.column_config.TextColumn(
            help="Median of the governorate estimates (not a national estimate); for a single "
            "governorate or a partial-coverage source, the estimate itself"
        ),
        "Waves": st.column_config.NumberColumn(
            help="Waves of this source with a published estimate of the indicator"
        ),
    },
)
ui.coverage_caption(summary)
unpublished = summary.filter(pl.col("has_published").not_())
if not unpublished.is_empty():
    st.caption(
        "No wave has a published estimate for: "
        + "; ".join(f"{r['indicator_name']} (`{r['source_id']}`)" for r in unpublished.iter_rows(named=True))
        + ". Every cell is suppressed (e.g. the question was not asked)."
    )

# --- one governorate ----------------------------------------------------------------------
estimates = ui.load("service_estimates", path, disaggregation="all")
govs = (
    estimates.select("governorate_pcode", "name_en", "name_ar")
    .unique("governorate_pcode")
    .sort("name_en", "governorate_pcode")
)
gov_names = {
    r["governorate_pcode"]: T.gov_label(r["name_en"], r["name_ar"]) for r in govs.iter_rows(named=True)
}

st.subheader("One governorate")
pcode = st.selectbox(
    "Governorate",
    options=list(gov_names),
    format_func=lambda p: gov_names.get(p, p),
    key="overview_governorate",
)
if pcode is None:
    st.stop()
gov_name = govs.filter(pl.col("governorate_pcode") == pcode)["name_en"][0]
snapshot = T.governorate_snapshot(summary, estimates, pcode)
covered = snapshot.filter(pl.col("Status") != T.NOT_COVERED)
st.dataframe(covered, hide_index=True)
ui.coverage_caption(estimates.filter(pl.col("governorate_pcode") == pcode))
if covered.height < snapshot.height:
    st.caption(
        f"{snapshot.height - covered.height} headline indicator(s) have no estimate for {gov_name}: "
        "their surveys did not cover it."
    )

# --- trend ------------------------------------------------------------------------------
st.subheader("Trend across waves")
multi = summary.filter(pl.col("n_waves") >= 2)
if multi.is_empty():
    st.info("No source has two waves of any indicator yet, so there is no trend to show.")
    st.stop()

trend_names = dict(
    multi.select("indicator_id", "indicator_name").unique("indicator_id").sort("indicator_name").iter_rows()
)
indicator_id = st.selectbox(
    "Indicator",
    options=list(trend_names),
    format_func=lambda i: trend_names.get(i, i),
    key="overview_trend_indicator",
)
sources = multi.filter(pl.col("indicator_id") == indicator_id)["source_id"].to_list()
ind_rows = estimates.filter((pl.col("indicator_id") == indicator_id) & pl.col("source_id").is_in(sources))
waves = ind_rows.select("source_id", "wave_id", "wave_order").unique().sort("source_id", "wave_order")
kind, unit = ind_rows["indicator_type"][0], ind_rows["unit"][0]
synthetic = set(ind_rows.filter(pl.col("is_synthetic"))["source_id"].unique().to_list())
coverage = {
    r["source_id"]: r["coverage"]
    for r in ind_rows.filter(pl.col("coverage").is_not_null()).select("source_id", "coverage").unique().iter_rows(named=True)
}

gov_rows = ind_rows.filter(pl.col("governorate_pcode") == pcode)
if gov_rows.is_empty():
    st.caption(
        f"{gov_name} has no estimate for this indicator in these sources; the median line is shown alone."
    )
if synthetic:
    st.caption(f"Lines marked [{T.SYNTHETIC_LABEL}] come from generated demonstration data.")
st.plotly_chart(
    charts.trend_figure(
        gov_rows, T.wave_medians(ind_rows), waves, gov_name, synthetic, kind, unit, coverage=coverage
    ),
    key="overview_trend_chart",
)
st.caption(
    "Error bars: 95% confidence interval of the governorate estimate. Dashed line: median of "
    "the governorates' published estimates in that wave. A suppressed wave shows no point."
)
