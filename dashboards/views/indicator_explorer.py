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

from dashboards import access, auth, charts, downloads, i18n, queries, ui, url_state
from dashboards import tables as T
from dashboards.i18n import N_, _

auth.require(access.DESIGN, _("The indicator explorer"))
path = ui.current_warehouse()

st.title(_("Indicator explorer"))
st.caption(
    _("Pick an indicator, a survey wave and a breakdown: governorate estimates with 95% "
        "confidence intervals, the national estimate, “{NATIONAL_LABEL}”, when the survey reached "
        "every governorate, the change since the previous wave, the design information behind "
        "them, and the indicator's reference sheet. Answer distributions show the share of every "
        "answer.").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL))
)

if not ui.require_tables(path, queries.SERVICE_TABLES, _("the indicator explorer")):
    st.stop()
rules = ui.estimation_rules(path)
rules_text = ui.rules_caption(path)

options = ui.load("indicator_options", path)
if options.is_empty():
    st.info(_("This warehouse has no indicator estimates yet."))
    st.stop()


def _approval_text(w: dict[str, Any]) -> str:
    """'approved by Layla on 2024-06-01 09:00:00 (note)' or the provisional label with the last
    decision, from a ``queries.waves`` row."""
    label = _(T.approval_label(w.get("approval_status"), w.get("is_approved")))
    if w.get("approval_by") or w.get("approval_at"):
        verb = {"approve": _("approved"), "revoke": _("revoked")}.get(w.get("approval_action") or "", _("decided"))
        label += _("; last decision: {verb} by {who} on {time}").format(
            verb=verb, who=w.get("approval_by") or _("unknown"), time=T.fmt_time(w.get("approval_at")))
        if w.get("approval_note"):
            label += f" ({w['approval_note']})"
    return label


def _select(label: str, values: list[Any], labels: dict[Any, str], key: str, param: str) -> Any:
    # A choice left over from another indicator may not exist here: the first option (url_state says why).
    return url_state.select(label, values, key, param=param, format_func=lambda v: labels.get(v, str(v)))


ALL_SECTORS = "all"
c1, c2, c3 = st.columns([2, 2, 1])
with c1:
    # sectors by their question-bank names and order (options come sorted by sector, then indicator name)
    options = i18n.localize_names(options, path).with_columns(
        pl.struct("sector_name", "sector").map_elements(
            lambda r: T.sector_label(r["sector_name"], r["sector"]), return_dtype=pl.String
        ).alias("sector_label")
    )
    sectors = options["sector_label"].unique(maintain_order=True).to_list()
    sector = _select(_("Sector"), [ALL_SECTORS, *sectors], {ALL_SECTORS: _("All sectors")}, "explorer_sector", "sector")
    shown = options if sector == ALL_SECTORS else options.filter(pl.col("sector_label") == sector)
    meta = shown.select("indicator_id", "name_en", "indicator_type").unique("indicator_id", maintain_order=True)
    names_ar = i18n.indicator_names_ar(path)
    names = {
        i: i18n.pick_name(n or i, names_ar.get(i)) + (_(" — answer distribution") if t == "distribution" else "")
        for i, n, t in meta.iter_rows()
    }
    indicator_id = _select(_("Indicator"), list(names), names, "explorer_indicator", "indicator")
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
            + f"  [{_(T.data_label(r['is_synthetic']))}]"
            + ("" if r["is_approved"] else f"  [{_(T.approval_label(r['approval_status'], False))}]")
        )
        for r in waves.iter_rows(named=True)
    }
    wave_key = _select(_("Source · wave"), list(wave_labels), wave_labels, "explorer_wave", "wave")
source_id, wave_id = wave_key.split("|", 1)
with c3:
    disaggs = ind_opts.filter((pl.col("source_id") == source_id) & (pl.col("wave_id") == wave_id))[
        "disaggregation"
    ].to_list()
    disagg_labels = {d: _(T.disaggregation_name(d)) for d in disaggs}
    disaggregation = _select(_("Breakdown"), disaggs, disagg_labels, "explorer_disaggregation", "breakdown")

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
    st.info(_("No estimates for this selection."))
    st.stop()
approval = T.approval_label(rows["approval_status"][0], bool(rows["is_approved"].all()))
if approval != T.APPROVED_LABEL:
    st.warning(
        _("**{approval}** — the M&E lead has not approved `{source_id}` · `{wave_id}` (approval: "
            "`{APPROVE_COMMAND}`). Its estimates are not shown to the steering committee by default "
            "and may still change.").format(approval=_(approval).capitalize(), source_id=source_id, wave_id=wave_id, APPROVE_COMMAND=T.APPROVE_COMMAND),
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
    title += f" — {_(T.SYNTHETIC_LABEL)}"
if approval != T.APPROVED_LABEL:
    title += f" — {_(approval)}"
suffix = f"{indicator_id}_{source_id}_{wave_id}_{disaggregation}"


def _estimates_view() -> None:
    gov_rows, national_rows = T.split_national(rows)
    if scale_notes:
        st.info(
            _("**Scale:** `{source_id}` · `{wave_id}` asked this question on a scale of its own — "
                "{notes}. Its answers are counted as the question bank's {box} box. A scale without a "
                "middle answer (4 points) puts more households in the top and bottom boxes than a 5-point "
                "scale does: compare with waves on the question bank's scale with care.").format(source_id=source_id, wave_id=wave_id, notes='; '.join(scale_notes), box=_('top') if 'top box' in scale_notes[0] else _('bottom')),
            icon=":material/straighten:",
        )
    m1, m2, m3 = st.columns(3)
    m1.metric(
        _("Governorates with an estimate"),
        i18n.format_decimal(gov_rows.filter(~pl.col("is_suppressed"))["governorate_pcode"].n_unique(), 0),
        help=_("Governorates only: the national estimate, “{NATIONAL_LABEL}”, is not counted").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL)),
    )
    m2.metric(_("Suppressed cells"), i18n.format_decimal(int(rows["is_suppressed"].sum()), 0))
    m3.metric(_("Unreliable cells"), i18n.format_decimal(int(rows["is_unreliable"].fill_null(False).sum()), 0))
    if not national_rows.is_empty():
        kind, unit = rows["indicator_type"][0], rows["unit"][0]
        parts = []
        for r in T.mask_suppressed(national_rows).iter_rows(named=True):
            group = T.disaggregation_label(r.get("disaggregation"), r.get("disaggregation_value"))
            head = "" if group == "all" else f"{_(group)}: "
            if r["is_suppressed"]:
                parts.append(head + _(T.status_label(True, r.get("suppression_reason"), False)))
            else:
                parts.append(
                    head + _("**{estimate}** (95% CI {ci})").format(
                        estimate=i18n.localize_number_text(T.fmt_value(r["estimate"], kind, unit)),
                        ci=i18n.localize_number_text(T.fmt_ci(r["ci_lower"], r["ci_upper"], kind, unit)))
                    + (_(" ⚠ unreliable") if r.get("is_unreliable") else "")
                )
        st.markdown(_("**{NATIONAL_LABEL}** (design-based national estimate, not a governorate): ").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL)) + "; ".join(parts))

    st.plotly_chart(charts.indicator_bars(i18n.localize_names(rows), title=title), key="explorer_bars",
                    config=downloads.png_config(suffix))
    st.caption(
        _("Bars: estimate with its 95% CI. Amber hatched bars: unreliable (wide CI). "
        "Grey ✕: suppressed — too few respondents, no estimate is shown (nor any statistic "
        "computed from the answers).")
        + (_(" Purple bar (top) and dotted line: the national estimate, “{NATIONAL_LABEL}”: a "
            "reference, not ranked among the governorates.").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL)) if not national_rows.is_empty() else "")
    )
    ui.coverage_caption(rows)

    display = T.estimates_display(i18n.localize_names(rows))
    if disaggregation == "all":
        display = display.drop("Group")
    i18n.dataframe(
        display,
        hide_index=True,
        column_config={
            "n": st.column_config.NumberColumn("n", help=_("Unweighted respondents with a substantive answer")),
            "PSUs": st.column_config.NumberColumn(_("PSUs"), help=_("PSUs with an answer in this domain")),
            "Single-PSU rule": st.column_config.TextColumn(
                help=_("What a stratum with a single PSU does in the variance (skip | certainty units | combine)")
            ),
            "Scale": st.column_config.TextColumn(
                help=_("The wave's own answer scale when it is not the question bank's (e.g. 4 points declared "
                "onto the top box); blank = the question bank's scale")
            ),
        },
    )
    st.download_button(
        _("Download this table (CSV)"),
        data=T.to_csv_bytes(T.estimates_export(rows, rules_text)),
        file_name=f"mizan_{suffix}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_download",
        help=_("Proportions as fractions; suppressed cells have no estimate, SE, CI or any other "
        "statistic computed from the answers. area_level: national for Iraq as a whole (IQ). "
        "coverage: blank = the whole governorate. scale_note: blank = the question bank's answer scale. "
        "approval_status: approved, or provisional (not "
        "approved by the M&E lead). estimation_rules: the rules these numbers were made with."),
    )
    downloads.download_buttons(T.estimates_export(rows, rules_text), suffix, key="explorer_xlsx", csv=False,
                               rules_text=rules_text, as_of=ui.data_as_of_text(ui.snapshot_identity(path)))

    # --- change since the previous wave --------------------------------------------------
    source_waves = all_waves.filter(pl.col("source_id") == source_id)["wave_id"].to_list()
    position = source_waves.index(wave_id) if wave_id in source_waves else -1
    previous = source_waves[position - 1] if position > 0 else None
    st.subheader(_("Change since the previous wave") + (f" ({previous} → {wave_id})" if previous else ""))
    if previous is None:
        st.info(_("`{wave_id}` is the first wave of `{source_id}`: there is no earlier wave to compare with.").format(wave_id=wave_id, source_id=source_id))
        return
    if "marts.fct_indicator_change" in ui.missing_tables(path, ["marts.fct_indicator_change"]):
        st.info(_("This warehouse has no `marts.fct_indicator_change` (it predates changes between waves)."))
        return
    changes = ui.load(
        "indicator_changes", path,
        indicator_id=indicator_id, source_id=source_id, wave_to=wave_id, disaggregation=disaggregation,
    )
    if changes.is_empty():
        st.info(_("No change was computed between `{previous}` and `{wave_id}` for this selection.").format(previous=previous, wave_id=wave_id))
        return
    # waves asked on different scales (e.g. 4 points, then the question bank's 5): say so with the change
    before = ui.load("service_estimates", path, indicator_id=indicator_id, source_id=source_id,
                     wave_id=previous, disaggregation=disaggregation)
    scales = {w: sorted(df["scale_note"].drop_nulls().unique().to_list()) if "scale_note" in df.columns else []
              for w, df in ((previous, before), (wave_id, rows))}
    if scales[previous] != scales[wave_id]:
        st.warning(
            _("The two waves were asked on different answer scales — ")
            + "; ".join(f"`{w}`: {'; '.join(n) if n else _('the question bank’s scale')}" for w, n in scales.items())
            + _(". Part of any difference may come from the scale rather than from a change in the service."),
            icon=":material/straighten:",
        )
    change_table = T.changes_display(i18n.localize_names(changes))
    if disaggregation == "all":
        change_table = change_table.drop("Group")
    i18n.dataframe(change_table, hide_index=True,
                 column_config={"Change": st.column_config.TextColumn(width="large")})
    st.caption(
        _("Difference = later minus earlier wave (percentage points for proportions); independent samples, "
        "SE = √(SE₁² + SE₂²), 95% t interval on the smaller of the two waves' degrees of freedom. A change "
        "is called a change only when that interval excludes zero; otherwise “no significant change”. "
        "A pair where either wave's estimate is suppressed carries no number, only the reason.")
    )
    st.download_button(
        _("Download the changes (CSV)"),
        data=T.to_csv_bytes(T.changes_export(changes, rules_text)),
        file_name=f"mizan_change_{indicator_id}_{source_id}_{previous}_{wave_id}_{disaggregation}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_change_download",
        help=_("difference, ci_lower, ci_upper as fractions for proportions (0.05 = 5 points); blank where "
        "not comparable (not_comparable_reason); change: the sentence shown on screen; "
        "estimation_rules: the rules these numbers were made with."),
    )


def _distribution_view() -> None:
    domains = T.distribution_domains(rows)
    gov = [d for d in domains if not T.is_national(d)]
    m1, m2, m3 = st.columns(3)
    m1.metric(
        _("Governorates with a distribution"),
        i18n.format_decimal(len({d["governorate_pcode"] for d in gov if not d["is_suppressed"]}), 0),
        help=_("Governorates only: the national distribution, “{NATIONAL_LABEL}”, is not counted").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL)),
    )
    m2.metric(_("Suppressed distributions"), i18n.format_decimal(sum(1 for d in domains if d["is_suppressed"]), 0))
    m3.metric(_("Answers on the scale"), i18n.format_decimal(len(T.distribution_choices(rows)), 0))
    st.plotly_chart(charts.distribution_bars(i18n.localize_names(rows), title=title), key="explorer_distribution",
                    config=downloads.png_config(suffix))
    st.caption(
        _("Each bar is one area's answers (100 %), in the order of the question's scale. The top bar "
            "is the national distribution, “{NATIONAL_LABEL}”, when the survey reached every "
            "governorate. A distribution is suppressed whole (grey ✕, no share at all) when any of its "
            "shares would be; the 95% CI of every share is in the table.").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL))
    )
    ui.coverage_caption(rows)
    table = T.distribution_display(i18n.localize_names(rows))
    if disaggregation == "all":
        table = table.drop("Group")
    i18n.dataframe(table, hide_index=True)
    st.download_button(
        _("Download this distribution (CSV)"),
        data=T.to_csv_bytes(T.distribution_export(rows, rules_text)),
        file_name=f"mizan_{suffix}.csv",
        mime="text/csv",
        on_click="ignore",
        key="explorer_download",
        help=_("One row per area, group and answer (choice_order = position on the scale); shares as "
        "fractions; a suppressed distribution is one row without any share. estimation_rules: the rules "
        "these numbers were made with."),
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
    st.subheader(_("Reference sheet"))
    if not sheet:
        st.warning(_("This indicator has no reference sheet in `marts.dim_indicator`."))
    else:
        kind, unit = sheet.get("indicator_type"), sheet.get("unit")
        fields = [
            (N_("Indicator"), f"{ui.md_escape(i18n.pick_name(sheet.get('name_en') or indicator_id, sheet.get('name_ar')))} "
                          f"(`{indicator_id}`)"),
            (N_("Arabic name"), sheet.get("name_ar")),
            (N_("Sector"), T.sector_label(i18n.pick_name(sheet.get("sector_name"), sheet.get("sector_name_ar")),
                                          sheet.get("sector"))),
            (N_("Definition"), sheet.get("definition")),
            (N_("Numerator"), sheet.get("numerator")),
            (N_("Denominator"), sheet.get("denominator")),
            (N_("Unit"), f"{unit} ({_('shown as %') if T.is_proportion(kind, unit) or kind == 'distribution' else _('one decimal')})"),
            (N_("Type"), kind),
            (N_("Universe"), sheet.get("universe")),
            (N_("Source questions"), sheet.get("source_questions") or sheet.get("question_id")),
            (N_("Disaggregations"), ", ".join(_(T.disaggregation_name(d)) for d in (sheet.get("disaggregations") or []))
             or None),
            (N_("Estimation method"), sheet.get("estimation_method")),
            (N_("CI method"), T.ci_method_label(sheet.get("ci_method"))),
            (N_("Suppression rule"), ui.rules_on_screen(rules, rules_text).split(":", 1)[-1].strip()),
            (N_("Version"), sheet.get("version")),
            (N_("Direction of good change"), _(T.direction_label(sheet.get("direction")))),
        ]
        for label, value in fields:
            if label == "Indicator":  # the one value that is Markdown already
                st.markdown(f"**{_(label)}:** {value}")
            else:
                st.markdown(f"**{_(label)}:** {ui.md_escape(value)}")
        st.caption(_("Suppression rule: the rule of this snapshot (`marts.dim_estimation_rules`), which the numbers "
                   "on this page were made with."))
        from pipelines.brief.data import framework_entry  # the results framework (Results framework page)

        fw = framework_entry(Path(path), indicator_id)
        if fw:
            st.markdown(ui.md_escape(_(
                "Results framework: version {framework}, formula version {formula}; baseline {baseline} "
                "({period}, {source}); targets {targets}; responsible unit: {unit}").format(
                    framework=fw["framework_version"], formula=fw["formula_version"],
                    baseline=f"{fw['baseline_value']:g}", period=fw["baseline_period"], source=fw["baseline_source"],
                    targets=fw["targets_text"], unit=fw["responsible_unit"])))

with right, st.container(border=True):
    st.subheader(_("Survey design of this wave"))
    if design.is_empty():
        st.info(_("No design information in `marts.dim_wave` for this wave."))
    else:
        w = design.row(0, named=True)
        rule = w.get("single_psu_rule")
        psu_line = T.DASH
        if rule is not None:
            psu_line = f"{_(T.single_psu_label(rule))} — {_(T.SINGLE_PSU_MEANING.get(rule, rule))}"
            if w.get("n_strata_delivered") is not None:
                psu_line += _(
                    ". Strata delivered: {delivered}, of which {single} with a single PSU; after the rule "
                    "{after} variance strata have a single PSU").format(
                        delivered=w.get("n_strata_delivered"), single=w.get("n_singleton_strata_delivered"),
                        after=w.get("n_singleton_strata"))
        weighting = T.DASH
        if w.get("weight_method") is not None:
            weighting = (
                _("{method}; post-stratification: {post}; min / median / max {low} / {median} / {high}; ").format(
                    method=_(T.WEIGHT_METHOD_LABELS.get(w["weight_method"], w["weight_method"])),
                    post=_(T.POST_STRATIFY_LABELS.get(w.get("post_stratify") or "none", w.get("post_stratify"))),
                    low=T.fmt_weight(w.get("weight_min")), median=T.fmt_weight(w.get("weight_median")),
                    high=T.fmt_weight(w.get("weight_max")))
                + T.extreme_weights_label(w.get("has_extreme_weights"), w.get("weight_ratio_max_median"),
                                          rules.get("extreme_weight_ratio"))
            )
        national = w.get("has_national_estimates")
        for label, value in [
            (N_("Survey"), w.get("title")),
            (N_("Data"), _(T.data_label(w.get("is_synthetic")))),
            (N_("Fieldwork"), _("{start} to {end}").format(start=w.get("fieldwork_start"), end=w.get("fieldwork_end"))),
            (N_("Coverage"), w.get("coverage") or _("governorate-wide")),
            (N_("Approval"), _approval_text(w)),
            (N_("Unit of analysis"), w.get("unit_of_analysis")),
            (N_("Respondents loaded"), w.get("n_respondents")),
            (N_("Strata · PSUs · degrees of freedom"), f"{w.get('n_strata')} · {w.get('n_psu')} · {w.get('degrees_of_freedom')}"),
            (N_("Single-PSU rule"), psu_line),
            (N_("CI method"), _("requested {requested}; used for the estimates shown: {used}").format(
                requested=T.ci_method_label(sheet.get("ci_method")), used=_methods_used())),
            (N_("Answer scale"), "; ".join(scale_notes) if scale_notes else _("the question bank's")),
            (N_("Weighting"), weighting),
            (N_("National estimates"), T.DASH if national is None else (
                _("yes (the wave reached every governorate)") if national
                else _("no (the wave did not reach every governorate)"))),
            (N_("Weights"), w.get("weight_note")),
            (N_("Design"), w.get("design_note")),
        ]:
            st.markdown(f"**{_(label)}:** {ui.md_escape(value)}")
