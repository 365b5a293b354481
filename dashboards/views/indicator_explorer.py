"""Indicator explorer — for M&E officers: one indicator, one wave, every governorate.

Every wave is offered, approved or not; a provisional wave is labelled in the wave picker, the chart
title, a warning, the table's 'Approval' column and the CSV's ``approval_status`` column. The national
estimate (Iraq as a whole, IQ) is a reference of its own, never one of the governorates. A service
indicator shows its estimates and the change since the previous wave of the source; a distribution
indicator shows its answer shares as 100 % stacked bars. Every table's CSV repeats the snapshot's
estimation rules on each row (column ``estimation_rules``).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from dashboards import access, auth, charts, downloads, queries, ui, url_state
from dashboards import tables as T

auth.require(access.DESIGN, "The indicator explorer")
path = ui.current_warehouse()

st.title("Indicator explorer")
st.caption(
    "Pick an indicator, a survey wave and a breakdown: governorate estimates with 95% confidence "
    f"intervals, the national estimate, “{T.NATIONAL_LABEL}”, when the survey reached every governorate, "
    "the change since the previous wave, the design information behind them, and the indicator's "
    "reference sheet. Answer distributions show the share of every answer."
)

if not ui.require_tables(path, queries.SERVICE_TABLES, "the indicator explorer"):
    st.stop()
rules = ui.estimation_rules(path)
rules_text = ui.rules_caption(path)

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


def _select(label: str, values: list[Any], labels: dict[Any, str], key: str, param: str) -> Any:
    # A choice left over from another indicator may not exist here: the first option (url_state says why).
    return url_state.select(label, values, key, param=param, format_func=lambda v: labels.get(v, str(v)))


ALL_SECTORS = "All sectors"
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    # sectors by their question-bank names and order (options come sorted by sector, then indicator name)
    options = options.with_columns(
        pl.struct("sector_name", "sector").map_elements(
            lambda r: T.sector_label(r["sector_name"], r["sector"]), return_dtype=pl.String
        ).alias("sector_label")
    )
    sectors = options["sector_label"].unique(maintain_order=True).to_list()
    sector = _select("Sector", [ALL_SECTORS, *sectors], {}, "explorer_sector", "sector")
    shown = options if sector == ALL_SECTORS else options.filter(pl.col("sector_label") == sector)
    meta = shown.select("indicator_id", "name_en", "indicator_type").unique("indicator_id", maintain_order=True)
    names = {
        i: (n or i) + (" — answer distribution" if t == "distribution" else "")
        for i, n, t in meta.iter_rows()
    }
    indicator_id = _select("Indicator", list(names), names, "explorer_indicator", "indicator")
ind_opts = options.filter(pl.col("indicator_id") == indicator_id)
is_distribution = ind_opts["indicator_type"][0] == "distribution"
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
    wave_key = _select("Source · wave", list(wave_labels), wave_labels, "explorer_wave", "wave")
source_id, wave_id = wave_key.split("|", 1)
with c3:
    disaggs = ind_opts.filter((pl.col("source_id") == source_id) & (pl.col("wave_id") == wave_id))[
        "disaggregation"
    ].to_list()
    disagg_labels = {d: T.disaggregation_name(d) for d in disaggs}
    disaggregation = _select("Breakdown", disaggs, disagg_labels, "explorer_disaggregation", "breakdown")

if is_distribution:
    rows = ui.load(
        "response_distribution", path,
        indicator_id=indicator_id, source_id=source_id, wave_id=wave_id, disaggregation=disaggregation,
    )
else:
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
all_waves = ui.load("waves", path)
design = all_waves.filter((pl.col("source_id") == source_id) & (pl.col("wave_id") == wave_id))

title = names.get(indicator_id, indicator_id)
# a wave on a scale of its own (e.g. 4 points declared onto the question's top box) says so with its numbers
scale_notes = (
    sorted(rows["scale_note"].drop_nulls().unique().to_list()) if "scale_note" in rows.columns else []
)
if scale_notes:
    title += " — " + "; ".join(scale_notes)
if rows["is_synthetic"].any():
    title += f" — {T.SYNTHETIC_LABEL}"
if approval != T.APPROVED_LABEL:
    title += f" — {approval}"
suffix = f"{indicator_id}_{source_id}_{wave_id}_{disaggregation}"


def _estimates_view() -> None:
    gov_rows, national_rows = T.split_national(rows)
    if scale_notes:
        st.info(
            f"**Scale:** `{source_id}` · `{wave_id}` asked this question on a scale of its own — "
            f"{'; '.join(scale_notes)}. Its answers are counted as the question bank's "
            f"{'top' if 'top box' in scale_notes[0] else 'bottom'} box. A scale without a middle answer "
            "(4 points) puts more households in the top and bottom boxes than a 5-point scale does: compare "
            "with waves on the question bank's scale with care.",
            icon=":material/straighten:",
        )
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Governorates with an estimate",
        gov_rows.filter(~pl.col("is_suppressed"))["governorate_pcode"].n_unique(),
        help=f"Governorates only: the national estimate, “{T.NATIONAL_LABEL}”, is not counted",
    )
    m2.metric("Suppressed cells", int(rows["is_suppressed"].sum()))
    m3.metric("Unreliable cells", int(rows["is_unreliable"].fill_null(False).sum()))
    if not national_rows.is_empty():
        kind, unit = rows["indicator_type"][0], rows["unit"][0]
        parts = []
        for r in T.mask_suppressed(national_rows).iter_rows(named=True):
            group = T.disaggregation_label(r.get("disaggregation"), r.get("disaggregation_value"))
            head = "" if group == "all" else f"{group}: "
            if r["is_suppressed"]:
                parts.append(head + T.status_label(True, r.get("suppression_reason"), False))
            else:
                parts.append(
                    head + f"**{T.fmt_value(r['estimate'], kind, unit)}** "
                    f"(95% CI {T.fmt_ci(r['ci_lower'], r['ci_upper'], kind, unit)})"
                    + (" ⚠ unreliable" if r.get("is_unreliable") else "")
                )
        st.markdown(f"**{T.NATIONAL_LABEL}** (design-based national estimate, not a governorate): " + "; ".join(parts))

    st.plotly_chart(charts.indicator_bars(rows, title=title), key="explorer_bars", config=downloads.png_config(suffix))
    st.caption(
        "Bars: estimate with its 95% CI. Amber hatched bars: unreliable (wide CI). "
        "Grey ✕: suppressed — too few respondents, no estimate is shown (nor any statistic "
        "computed from the answers)."
        + (f" Purple bar (top) and dotted line: the national estimate, “{T.NATIONAL_LABEL}”: a reference, "
           "not ranked among the governorates." if not national_rows.is_empty() else "")
    )
    ui.coverage_caption(rows)

    display = T.estimates_display(rows)
    if disaggregation == "all":
        display = display.drop("Group")
    st.dataframe(
        display,
        hide_index=True,
        column_config={
            "n": st.column_config.NumberColumn("n", help="Unweighted respondents with a substantive answer"),
            "PSUs": st.column_config.NumberColumn("PSUs", help="PSUs with an answer in this domain"),
            "Single-PSU rule": st.column_config.TextColumn(
                help="What a stratum with a single PSU does in the variance (skip | certainty units | combine)"
            ),
            "Scale": st.column_config.TextColumn(
                help="The wave's own answer scale when it is not the question bank's (e.g. 4 points declared "
                "onto the top box); blank = the question bank's scale"
            ),
        },
    )
    st.download_button(
        "Download this table (CSV)",
        data=T.to_csv_bytes(T.estimates_export(rows, rules_text)),
        file_name=f"mizan_{suffix}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_download",
        help="Proportions as fractions; suppressed cells have no estimate, SE, CI or any other "
        "statistic computed from the answers. area_level: national for Iraq as a whole (IQ). "
        "coverage: blank = the whole governorate. scale_note: blank = the question bank's answer scale. "
        "approval_status: approved, or provisional (not "
        "approved by the M&E lead). estimation_rules: the rules these numbers were made with.",
    )
    downloads.download_buttons(T.estimates_export(rows, rules_text), suffix, key="explorer_xlsx", csv=False,
                               rules_text=rules_text, as_of=ui.data_as_of_text(ui.snapshot_identity(path)))

    # --- change since the previous wave --------------------------------------------------
    source_waves = all_waves.filter(pl.col("source_id") == source_id)["wave_id"].to_list()
    position = source_waves.index(wave_id) if wave_id in source_waves else -1
    previous = source_waves[position - 1] if position > 0 else None
    st.subheader("Change since the previous wave" + (f" ({previous} → {wave_id})" if previous else ""))
    if previous is None:
        st.info(f"`{wave_id}` is the first wave of `{source_id}`: there is no earlier wave to compare with.")
        return
    if "marts.fct_indicator_change" in ui.missing_tables(path, ["marts.fct_indicator_change"]):
        st.info("This warehouse has no `marts.fct_indicator_change` (it predates changes between waves).")
        return
    changes = ui.load(
        "indicator_changes", path,
        indicator_id=indicator_id, source_id=source_id, wave_to=wave_id, disaggregation=disaggregation,
    )
    if changes.is_empty():
        st.info(f"No change was computed between `{previous}` and `{wave_id}` for this selection.")
        return
    # waves asked on different scales (e.g. 4 points, then the question bank's 5): say so with the change
    before = ui.load("service_estimates", path, indicator_id=indicator_id, source_id=source_id,
                     wave_id=previous, disaggregation=disaggregation)
    scales = {w: sorted(df["scale_note"].drop_nulls().unique().to_list()) if "scale_note" in df.columns else []
              for w, df in ((previous, before), (wave_id, rows))}
    if scales[previous] != scales[wave_id]:
        st.warning(
            "The two waves were asked on different answer scales — "
            + "; ".join(f"`{w}`: {'; '.join(n) if n else 'the question bank’s scale'}" for w, n in scales.items())
            + ". Part of any difference may come from the scale rather than from a change in the service.",
            icon=":material/straighten:",
        )
    change_table = T.changes_display(changes)
    if disaggregation == "all":
        change_table = change_table.drop("Group")
    st.dataframe(change_table, hide_index=True,
                 column_config={"Change": st.column_config.TextColumn(width="large")})
    st.caption(
        "Difference = later minus earlier wave (percentage points for proportions); independent samples, "
        "SE = √(SE₁² + SE₂²), 95% t interval on the smaller of the two waves' degrees of freedom. A change "
        "is called a change only when that interval excludes zero; otherwise “no significant change”. "
        "A pair where either wave's estimate is suppressed carries no number, only the reason."
    )
    st.download_button(
        "Download the changes (CSV)",
        data=T.to_csv_bytes(T.changes_export(changes, rules_text)),
        file_name=f"mizan_change_{indicator_id}_{source_id}_{previous}_{wave_id}_{disaggregation}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_change_download",
        help="difference, ci_lower, ci_upper as fractions for proportions (0.05 = 5 points); blank where "
        "not comparable (not_comparable_reason); change: the sentence shown on screen; "
        "estimation_rules: the rules these numbers were made with.",
    )


def _distribution_view() -> None:
    domains = T.distribution_domains(rows)
    gov = [d for d in domains if not T.is_national(d)]
    m1, m2, m3 = st.columns(3)
    m1.metric(
        "Governorates with a distribution",
        len({d["governorate_pcode"] for d in gov if not d["is_suppressed"]}),
        help=f"Governorates only: the national distribution, “{T.NATIONAL_LABEL}”, is not counted",
    )
    m2.metric("Suppressed distributions", sum(1 for d in domains if d["is_suppressed"]))
    m3.metric("Answers on the scale", len(T.distribution_choices(rows)))
    st.plotly_chart(charts.distribution_bars(rows, title=title), key="explorer_distribution",
                    config=downloads.png_config(suffix))
    st.caption(
        "Each bar is one area's answers (100 %), in the order of the question's scale. "
        f"The top bar is the national distribution, “{T.NATIONAL_LABEL}”, when the survey reached every "
        "governorate. A distribution is suppressed whole (grey ✕, no share at all) when any of its shares "
        "would be; the 95% CI of every share is in the table."
    )
    ui.coverage_caption(rows)
    table = T.distribution_display(rows)
    if disaggregation == "all":
        table = table.drop("Group")
    st.dataframe(table, hide_index=True)
    st.download_button(
        "Download this distribution (CSV)",
        data=T.to_csv_bytes(T.distribution_export(rows, rules_text)),
        file_name=f"mizan_{suffix}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_download",
        help="One row per area, group and answer (choice_order = position on the scale); shares as "
        "fractions; a suppressed distribution is one row without any share. estimation_rules: the rules "
        "these numbers were made with.",
    )


left, right = st.columns([3, 2], gap="large")
with left:
    if is_distribution:
        _distribution_view()
    else:
        _estimates_view()


def _methods_used() -> str:
    """'logit (19), Clopper–Pearson (estimate 0 or 100 %) (1)' over the published rows shown."""
    if "ci_method" not in rows.columns:
        return T.DASH
    used = Counter(
        T.ci_method_label(m)
        for m in T.mask_suppressed(rows)["ci_method"].to_list()
        if m is not None
    )
    return ", ".join(f"{m} ({n})" for m, n in used.most_common()) or T.DASH


with right, st.container(border=True):
    st.subheader("Reference sheet")
    if not sheet:
        st.warning("This indicator has no reference sheet in `marts.dim_indicator`.")
    else:
        kind, unit = sheet.get("indicator_type"), sheet.get("unit")
        fields = [
            ("Indicator", f"{ui.md_escape(sheet.get('name_en') or indicator_id)} (`{indicator_id}`)"),
            ("Arabic name", sheet.get("name_ar")),
            ("Sector", T.sector_label(sheet.get("sector_name"), sheet.get("sector"))),
            ("Definition", sheet.get("definition")),
            ("Numerator", sheet.get("numerator")),
            ("Denominator", sheet.get("denominator")),
            ("Unit", f"{unit} ({'shown as %' if T.is_proportion(kind, unit) or kind == 'distribution' else 'one decimal'})"),
            ("Type", kind),
            ("Universe", sheet.get("universe")),
            ("Source questions", sheet.get("source_questions") or sheet.get("question_id")),
            ("Disaggregations", ", ".join(T.disaggregation_name(d) for d in (sheet.get("disaggregations") or []))
             or None),
            ("Estimation method", sheet.get("estimation_method")),
            ("CI method", T.ci_method_label(sheet.get("ci_method"))),
            ("Suppression rule", rules_text.removeprefix("Suppression rule:").strip()),
            ("Version", sheet.get("version")),
            ("Direction of good change", T.direction_label(sheet.get("direction"))),
        ]
        for label, value in fields:
            if label == "Indicator":
                st.markdown(f"**{label}:** {value}")
            else:
                st.markdown(f"**{label}:** {ui.md_escape(value)}")
        st.caption("Suppression rule: the rule of this snapshot (`marts.dim_estimation_rules`), which the numbers "
                   "on this page were made with.")
        from pipelines.brief.data import framework_entry  # the results framework (Results framework page)

        fw = framework_entry(Path(path), indicator_id)
        if fw:
            st.markdown(ui.md_escape(
                f"Results framework: version {fw['framework_version']}, formula version {fw['formula_version']}; "
                f"baseline {fw['baseline_value']:g} ({fw['baseline_period']}, {fw['baseline_source']}); targets "
                f"{fw['targets_text']}; responsible unit: {fw['responsible_unit']}"))

with right, st.container(border=True):
    st.subheader("Survey design of this wave")
    if design.is_empty():
        st.info("No design information in `marts.dim_wave` for this wave.")
    else:
        w = design.row(0, named=True)
        rule = w.get("single_psu_rule")
        psu_line = T.DASH
        if rule is not None:
            psu_line = f"{T.single_psu_label(rule)} — {T.SINGLE_PSU_MEANING.get(rule, rule)}"
            if w.get("n_strata_delivered") is not None:
                psu_line += (
                    f". Strata delivered: {w.get('n_strata_delivered')}, of which "
                    f"{w.get('n_singleton_strata_delivered')} with a single PSU; after the rule "
                    f"{w.get('n_singleton_strata')} variance strata have a single PSU"
                )
        weighting = T.DASH
        if w.get("weight_method") is not None:
            weighting = (
                f"{T.WEIGHT_METHOD_LABELS.get(w['weight_method'], w['weight_method'])}; post-stratification: "
                f"{T.POST_STRATIFY_LABELS.get(w.get('post_stratify') or 'none', w.get('post_stratify'))}; "
                f"min / median / max {T.fmt_weight(w.get('weight_min'))} / {T.fmt_weight(w.get('weight_median'))} "
                f"/ {T.fmt_weight(w.get('weight_max'))}; "
                + T.extreme_weights_label(w.get("has_extreme_weights"), w.get("weight_ratio_max_median"),
                                          rules.get("extreme_weight_ratio"))
            )
        national = w.get("has_national_estimates")
        for label, value in [
            ("Survey", w.get("title")),
            ("Data", T.data_label(w.get("is_synthetic"))),
            ("Fieldwork", f"{w.get('fieldwork_start')} to {w.get('fieldwork_end')}"),
            ("Coverage", w.get("coverage") or "governorate-wide"),
            ("Approval", _approval_text(w)),
            ("Unit of analysis", w.get("unit_of_analysis")),
            ("Respondents loaded", w.get("n_respondents")),
            ("Strata · PSUs · degrees of freedom", f"{w.get('n_strata')} · {w.get('n_psu')} · {w.get('degrees_of_freedom')}"),
            ("Single-PSU rule", psu_line),
            ("CI method", f"requested {T.ci_method_label(sheet.get('ci_method'))}; used for the estimates shown: "
                          f"{_methods_used()}"),
            ("Answer scale", "; ".join(scale_notes) if scale_notes else "the question bank's"),
            ("Weighting", weighting),
            ("National estimates", T.DASH if national is None else (
                "yes (the wave reached every governorate)" if national else "no (the wave did not reach every governorate)")),
            ("Weights", w.get("weight_note")),
            ("Design", w.get("design_note")),
        ]:
            st.markdown(f"**{label}:** {ui.md_escape(value)}")
