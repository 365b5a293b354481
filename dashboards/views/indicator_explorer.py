"""Indicator explorer — for M&E officers: one indicator, one wave, every governorate.

Every wave is offered, approved or not; a provisional wave is labelled in the wave picker, the chart
title, a warning, the table's 'Approval' column and the CSV's ``approval_status`` column.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import streamlit as st

from dashboards import charts, queries, ui
from dashboards import tables as T

path = ui.current_warehouse()

st.title("Indicator explorer")
st.caption(
    "Pick an indicator, a survey wave and a breakdown: governorate estimates with 95% confidence "
    "intervals, the design information behind them, and the indicator's reference sheet."
)
ui.suppression_caption()

if not ui.require_tables(path, queries.SERVICE_TABLES, "the indicator explorer"):
    st.stop()

options = ui.load("indicator_options", path)
if options.is_empty():
    st.info("This warehouse has no indicator estimates yet.")
    st.stop()


def _approval_text(w: dict[str, Any]) -> str:
    """'approved by Layla on 2024-06-01 09:00:00 (note)' or the provisional label with the last
    decision, from a ``queries.waves`` row."""
    label = T.approval_label(w.get("approval_status"), w.get("is_approved"))
    if w.get("approval_by") or w.get("approval_at"):
        verb = {"approve": "approved", "revoke": "revoked"}.get(w.get("approval_action") or "", "decided")
        label += f"; last decision: {verb} by {w.get('approval_by') or 'unknown'} on {T.fmt_time(w.get('approval_at'))}"
        if w.get("approval_note"):
            label += f" ({w['approval_note']})"
    return label


def _select(label: str, values: list[Any], labels: dict[Any, str], key: str) -> Any:
    # A choice left over from another indicator may not exist here: fall back to the first.
    if st.session_state.get(key) not in values:
        st.session_state.pop(key, None)
    return st.selectbox(label, options=values, format_func=lambda v: labels.get(v, str(v)), key=key)


c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    names = dict(
        options.select("indicator_id", "name_en").unique("indicator_id", maintain_order=True).iter_rows()
    )
    names = {k: (v or k) for k, v in names.items()}
    indicator_id = _select("Indicator", list(names), names, "explorer_indicator")
ind_opts = options.filter(pl.col("indicator_id") == indicator_id)
with c2:
    waves = ind_opts.select(
        "source_id", "wave_id", "wave_title", "is_synthetic", "is_approved", "approval_status"
    ).unique(["source_id", "wave_id"], maintain_order=True)
    wave_labels = {
        f"{r['source_id']}|{r['wave_id']}": (
            f"{r['source_id']} · {r['wave_id']}"
            + (f" — {r['wave_title']}" if r["wave_title"] else "")
            + f"  [{T.data_label(r['is_synthetic'])}]"
            + ("" if r["is_approved"] else f"  [{T.approval_label(r['approval_status'], False)}]")
        )
        for r in waves.iter_rows(named=True)
    }
    wave_key = _select("Source · wave", list(wave_labels), wave_labels, "explorer_wave")
source_id, wave_id = wave_key.split("|", 1)
with c3:
    disaggs = ind_opts.filter((pl.col("source_id") == source_id) & (pl.col("wave_id") == wave_id))[
        "disaggregation"
    ].to_list()
    disagg_labels = {"all": "None (all respondents)", "hoh_sex": "Sex of household head"}
    disaggregation = _select("Breakdown", disaggs, disagg_labels, "explorer_disaggregation")

rows = ui.load(
    "service_estimates", path,
    indicator_id=indicator_id, source_id=source_id, wave_id=wave_id, disaggregation=disaggregation,
)
ui.provenance_banner(rows)
if rows.is_empty():
    st.info("No estimates for this selection.")
    st.stop()
approval = T.approval_label(rows["approval_status"][0], bool(rows["is_approved"].all()))
if approval != T.APPROVED_LABEL:
    st.warning(
        f"**{approval.capitalize()}** — the M&E lead has not approved `{source_id}` · `{wave_id}` "
        f"(approval: `{T.APPROVE_COMMAND}`). Its estimates are not shown to the steering committee "
        "by default and may still change.",
        icon=":material/pending_actions:",
    )

ref = ui.load("indicators", path).filter(pl.col("indicator_id") == indicator_id)
sheet = ref.row(0, named=True) if ref.height else {}

left, right = st.columns([3, 2], gap="large")
with left:
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Governorates with an estimate",
        rows.filter(~pl.col("is_suppressed"))["governorate_pcode"].n_unique(),
    )
    m2.metric("Suppressed cells", int(rows["is_suppressed"].sum()))
    m3.metric("Unreliable cells", int(rows["is_unreliable"].sum()))

    title = names.get(indicator_id, indicator_id)
    if rows["is_synthetic"].any():
        title += f" — {T.SYNTHETIC_LABEL}"
    if approval != T.APPROVED_LABEL:
        title += f" — {approval}"
    st.plotly_chart(charts.indicator_bars(rows, title=title), key="explorer_bars")
    st.caption(
        "Bars: estimate with its 95% CI. Amber hatched bars: unreliable (wide CI). "
        "Grey ✕: suppressed — too few respondents, no estimate is shown (nor any statistic "
        "computed from the answers)."
    )
    ui.coverage_caption(rows)

    display = T.estimates_display(rows)
    if disaggregation == "all":
        display = display.drop("Group")
    st.dataframe(
        display,
        hide_index=True,
        column_config={
            "n": st.column_config.NumberColumn("n", help="Unweighted respondents with a substantive answer")
        },
    )
    st.download_button(
        "Download this table (CSV)",
        data=T.to_csv_bytes(T.estimates_export(rows)),
        file_name=f"mizan_{indicator_id}_{source_id}_{wave_id}_{disaggregation}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_download",
        help="Proportions as fractions; suppressed cells have no estimate, SE, CI or any other "
        "statistic computed from the answers. coverage: blank = the whole governorate. "
        "approval_status: approved, or provisional (not approved by the M&E lead).",
    )

with right, st.container(border=True):
    st.subheader("Reference sheet")
    if not sheet:
        st.warning("This indicator has no reference sheet in `marts.dim_indicator`.")
    else:
        kind, unit = sheet.get("indicator_type"), sheet.get("unit")
        fields = [
            ("Indicator", f"{ui.md_escape(sheet.get('name_en') or indicator_id)} (`{indicator_id}`)"),
            ("Arabic name", sheet.get("name_ar")),
            ("Sector", sheet.get("sector")),
            ("Definition", sheet.get("definition")),
            ("Numerator", sheet.get("numerator")),
            ("Denominator", sheet.get("denominator")),
            ("Unit", f"{unit} ({'shown as %' if T.is_proportion(kind, unit) else 'one decimal'})"),
            ("Type", kind),
            ("Universe", sheet.get("universe")),
            ("Source questions", sheet.get("source_questions") or sheet.get("question_id")),
            ("Disaggregations", sheet.get("disaggregations")),
            ("Estimation method", sheet.get("estimation_method")),
            ("CI method", sheet.get("ci_method")),
            ("Suppression rule", sheet.get("suppression_rule")),
            ("Version", sheet.get("version")),
            ("Direction of good change", T.direction_label(sheet.get("direction"))),
        ]
        for label, value in fields:
            if label == "Indicator":
                st.markdown(f"**{label}:** {value}")
            else:
                st.markdown(f"**{label}:** {ui.md_escape(value)}")

with right, st.container(border=True):
    st.subheader("Survey design of this wave")
    design = ui.load("waves", path).filter((pl.col("source_id") == source_id) & (pl.col("wave_id") == wave_id))
    if design.is_empty():
        st.info("No design information in `marts.dim_wave` for this wave.")
    else:
        w = design.row(0, named=True)
        for label, value in [
            ("Survey", w.get("title")),
            ("Data", T.data_label(w.get("is_synthetic"))),
            ("Fieldwork", f"{w.get('fieldwork_start')} to {w.get('fieldwork_end')}"),
            ("Coverage", w.get("coverage") or "governorate-wide"),
            ("Approval", _approval_text(w)),
            ("Unit of analysis", w.get("unit_of_analysis")),
            ("Respondents loaded", w.get("n_respondents")),
            ("Strata · PSUs · degrees of freedom", f"{w.get('n_strata')} · {w.get('n_psu')} · {w.get('degrees_of_freedom')}"),
            ("Weights", w.get("weight_note")),
            ("Design", w.get("design_note")),
        ]:
            st.markdown(f"**{label}:** {ui.md_escape(value)}")
