"""Overview — for steering-committee members: headline indicators and trends.

Approved survey waves only by default (``audit.wave_approval_status``); the toggle "Include
provisional waves" adds the others, each labelled provisional in the tables and the trend chart.
"""

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

include_provisional = st.toggle(
    "Include provisional waves",
    value=False,
    key="overview_include_provisional",
    help="Waves the M&E lead has not approved (yet, or no longer: revoked, or the files changed "
    "since the approval). Off: the steering committee sees approved waves only.",
)
all_waves = ui.load("headline_summary", path)
if all_waves.is_empty():
    st.info("This warehouse has no indicator estimates yet.")
    st.stop()
summary = all_waves if include_provisional else ui.load("headline_summary", path, approved_only=True)
waves_table = ui.load("waves", path)
provisional_waves = waves_table.filter(~pl.col("is_approved")).select("source_id", "wave_id", "approval_status")


def _wave_list(df: pl.DataFrame) -> str:
    return "; ".join(
        f"`{r['source_id']}` · `{r['wave_id']}` ({T.approval_label(r['approval_status'], False)})"
        for r in df.iter_rows(named=True)
    )


if summary.is_empty():
    st.info(
        "**No survey wave is approved yet**, so there is nothing to show the steering committee. "
        "Estimates stay *provisional* until the M&E lead has reviewed a wave and approved it with "
        f"`{T.APPROVE_COMMAND}` (S = source id, W = wave id); an approval lapses when the wave's "
        "files change. Turn on **Include provisional waves** above to look at them now, labelled "
        "provisional.",
        icon=":material/pending_actions:",
    )
    if not provisional_waves.is_empty():
        st.caption("Waves awaiting approval: " + _wave_list(provisional_waves) + ".")
    st.stop()

if include_provisional:
    if not provisional_waves.is_empty():
        st.warning(
            "**Includes provisional waves** — not (or no longer) approved by the M&E lead; figures "
            "may change: " + _wave_list(provisional_waves) + ".",
            icon=":material/pending_actions:",
        )
elif not provisional_waves.is_empty():
    st.caption(
        "Approved waves only. Not shown (provisional): " + _wave_list(provisional_waves)
        + f". The M&E lead approves a wave with `{T.APPROVE_COMMAND}`; or turn on "
        "**Include provisional waves**."
    )

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
            + ("" if include_provisional else " (approved waves only)")
        ),
        "Approval": st.column_config.TextColumn(
            help="approved by the M&E lead, or provisional (not yet approved, approval revoked, "
            "or files changed since the approval)"
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
if not include_provisional:
    estimates = estimates.filter(pl.col("is_approved"))
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
waves = (
    ind_rows.select("source_id", "wave_id", "wave_order", "is_approved")
    .unique(["source_id", "wave_id"])
    .sort("source_id", "wave_order")
)
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
    + (
        " A wave marked “(provisional)” is not approved by the M&E lead."
        if not waves.filter(~pl.col("is_approved")).is_empty()
        else ""
    )
)
