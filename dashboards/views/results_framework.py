"""Results framework — progress against targets for the steering committee: scorecard with the three
statuses, the IPTT (downloadable as CSV and Excel), training outputs, and the PDF brief.

Reads the snapshot through pipelines/brief/data.py, the same reader the brief uses: suppressed cells have
no number and no status, provisional survey waves are left out unless the toggle adds them.
"""

from __future__ import annotations

import io
from pathlib import Path

import polars as pl
import streamlit as st
from openpyxl import Workbook

from dashboards import access, auth, i18n, ui, url_state
from dashboards.i18n import N_, _

from pipelines.brief import data as rf

STATUS_LABELS = {"target_met": N_("✅ Target met"), "not_met": N_("❌ Not met"),
                 "too_close_to_call": N_("⚖️ Too close to call")}
REQUIRED = ["marts.fct_indicator_progress", "marts.fct_training_cohorts", "marts.fct_training_outputs"]
IPTT_COLUMNS = {
    "result_id": "Result", "level": "Level", "indicator_id": "Indicator id", "name_en": "Indicator",
    "governorate_pcode": "Area p-code", "governorate_name_en": "Area", "period": "Period",
    "baseline_value": "Baseline", "baseline_period": "Baseline period", "target_value": "Target",
    "target_scope": "Target set for", "actual": "Actual", "ci_lower": "95% CI lower", "ci_upper": "95% CI upper",
    "pct_of_distance": "% of distance baseline to target", "status": "Status", "status_note": "Note",
    "unit": "Unit", "direction": "Direction", "responsible_unit": "Responsible unit",
    "framework_version": "Framework version", "formula_version": "Formula version", "source_id": "Source",
    "wave_id": "Wave",
}

auth.require(access.PUBLISHED, _("the results framework"))
path = ui.current_warehouse()
st.title(_("Results framework"))
if not ui.require_tables(path, REQUIRED, _("the results framework")):
    st.stop()
st.caption(
    _("Status against each target. A survey estimate is **target met** only when its whole 95% confidence "
    "interval is on the good side of the target, **not met** when the whole interval is on the bad side, and "
    "**too close to call** when the interval crosses the target. Counts and budget figures are compared "
    "directly. Suppressed cells (too few respondents) have no number and no status.")
)
st.caption(ui.rules_caption(path))

# A role without the provisional permission gets no toggle: the committee reads approved waves only.
include_provisional = auth.can(access.PROVISIONAL) and st.toggle(
    _("Include provisional survey waves"), value=False, key="rf_provisional")
rows = rf.progress(Path(path), include_provisional=include_provisional)
if rows.is_empty():
    st.info(_("The results framework has no progress rows in this snapshot."))
    st.stop()
periods = sorted(rows["period"].unique().to_list())
period = url_state.select(_("Period up to"), periods, "rf_period", param="period", default_index=len(periods) - 1)
rows = rows.filter(pl.col("period") <= period)
card = rf.scorecard(rows)


def _status(row: dict) -> str:
    if row["status"]:
        return _(STATUS_LABELS[row["status"]])
    if row["is_suppressed"]:
        return _("suppressed")
    return row["status_note"] or _("no status")


def _xlsx(frame: pl.DataFrame) -> bytes:
    """The frame as one Excel sheet (openpyxl: polars' own writer needs xlsxwriter, not a dependency)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "IPTT"
    ws.append(frame.columns)
    for r in frame.iter_rows():
        ws.append(list(r))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _labelled(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.Series("status_label", [_status(r) for r in frame.iter_rows(named=True)], dtype=pl.String))


st.subheader(_("Scorecard — national"))
national = _labelled(card.filter(pl.col("governorate_pcode") == rf.NATIONAL))
# names in the reader's language: the warehouse's Arabic names when the page is in Arabic
name_col = "name_ar" if i18n.current_language() == "ar" and "name_ar" in card.columns else "name_en"
gov_name_col = ("governorate_name_ar" if i18n.current_language() == "ar" and "governorate_name_ar" in card.columns
                else "governorate_name_en")
i18n.dataframe(
    national.select(
        pl.col("level").alias("Level"), pl.col(name_col).fill_null(pl.col("name_en")).alias("Indicator"), pl.col("period").alias("Period"),
        pl.col("baseline_value").alias("Baseline"), pl.col("target_value").alias("Target"),
        pl.col("actual").alias("Actual"), pl.col("ci_lower").alias("95% CI lower"), pl.col("ci_upper").alias("95% CI upper"),
        pl.col("pct_of_distance").round(0).alias("% of distance"), pl.col("status_label").alias("Status"),
        pl.format(_("framework {} · formula {}"), "framework_version", "formula_version").alias("Versions"),
    ),
    hide_index=True, width="stretch",
)
counts = national["status"].value_counts()
c1, c2, c3 = st.columns(3)
for col, key in zip((c1, c2, c3), STATUS_LABELS):
    n = counts.filter(pl.col("status") == key)["count"].sum() if counts.height else 0
    col.metric(_(STATUS_LABELS[key]), i18n.format_decimal(int(n), 0))

st.subheader(_("Scorecard — by governorate"))
by_gov = _labelled(card.filter((pl.col("governorate_pcode") != rf.NATIONAL) & (pl.col("kind") != "training")))
if by_gov.height:
    matrix = by_gov.select(pl.col(gov_name_col).fill_null(pl.col("governorate_name_en")).alias("Governorate"),
                           pl.col(name_col).fill_null(pl.col("name_en")).alias("indicator"), "status_label").pivot(
        on="indicator", index="Governorate", values="status_label", aggregate_function="first")
    i18n.dataframe(matrix.sort("Governorate"), hide_index=True, width="stretch")

st.subheader(_("Indicator performance tracking table (IPTT)"))
iptt = rows.select([c for c in IPTT_COLUMNS if c in rows.columns]).rename(IPTT_COLUMNS)
i18n.dataframe(iptt, hide_index=True, width="stretch")
d1, d2 = st.columns(2)
with d1:
    st.download_button(_("Download IPTT (CSV)"), iptt.write_csv().encode("utf-8"), file_name=f"mizan_iptt_{period}.csv",
                       mime="text/csv")
with d2:
    st.download_button(_("Download IPTT (Excel)"), _xlsx(iptt), file_name=f"mizan_iptt_{period}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

st.subheader(_("Training outputs"))
cohorts = rf.training_cohorts(Path(path))
if cohorts.is_empty():
    st.info(_("No training records in this snapshot: add them under `DIR/training/<source_id>/`."))
else:
    i18n.dataframe(
        cohorts.select(
            pl.col("track").alias("Track"), pl.col("cohort").alias("Cohort"), pl.col("n_trained").alias("Trained"),
            pl.col("n_completed").alias("Completed"), (100 * pl.col("share_women")).round(0).alias("Women (%)"),
            pl.col("n_paired").alias("Pre/post pairs"), pl.col("mean_knowledge_gain").round(1).alias("Knowledge gain (points)"),
            pl.col("knowledge_gain_ci_lower").round(1).alias("95% CI lower"),
            pl.col("knowledge_gain_ci_upper").round(1).alias("95% CI upper"),
        ),
        hide_index=True, width="stretch",
    )
    outputs = rf.training_outputs(Path(path))
    by_level = outputs.group_by("track", "level_of_government", "sex").agg(
        pl.col("n_trained").sum().alias("Trained"), pl.col("n_completed").sum().alias("Completed")
    ).sort("track", "level_of_government", "sex")
    i18n.dataframe(by_level.rename({"track": "Track", "level_of_government": "Level of government", "sex": "Sex"}),
                 hide_index=True, width="stretch")

st.subheader(_("Committee brief (PDF)"))
lang = st.radio(_("Language of the brief"), ["ar", "en"], format_func=i18n.LANGUAGES.__getitem__,
                index=0 if i18n.current_language() == "ar" else 1, horizontal=True, key="rf_brief_lang")
if st.button(_("Prepare the brief"), key="rf_brief_build"):
    from pipelines.brief.build import BriefError, render_brief

    try:
        st.session_state["rf_brief"] = (lang, period, render_brief(rf.identify(Path(path)), lang, period, include_provisional))
    except BriefError as exc:
        st.error(str(exc))
brief = st.session_state.get("rf_brief")
if brief and brief[:2] == (lang, period):
    st.download_button(_("Download the brief ({lang}, up to {period})").format(lang=lang, period=period), brief[2],
                       file_name=f"mizan_brief_{lang}_{period}.pdf", mime="application/pdf")
