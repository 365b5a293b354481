"""Overview — for steering-committee members: headline indicators, change and trends.

Approved survey waves only by default (``audit.wave_approval_status``); the toggle "Include
provisional waves" adds the others, each labelled provisional in the tables and the trend chart. A
change between waves is shown only when both waves are shown (approved, or provisional with the
toggle, then labelled), and it is called a change only when it is significant.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import access, auth, charts, downloads, i18n, queries, ui, url_state
from dashboards import tables as T
from dashboards.i18n import _, ngettext

path = ui.current_warehouse()

st.title(_("Overview"))
st.caption(
    _("Where each service indicator stands, sector by sector, in the latest wave of each survey "
        "that published an estimate of it, whether it changed since the wave before, and how it "
        "moved across waves. For a survey that reached every governorate the headline is the "
        "**national estimate** (“{NATIONAL_LABEL}”: design-based, with its 95% CI); the median and "
        "range of the governorate estimates are given beside it. For other surveys the headline is "
        "the median and range of governorate estimates; for a source with a single governorate, or "
        "covering only part of one (e.g. one city), it is that estimate itself with its 95% CI.").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL))
)

if not ui.require_tables(path, queries.SERVICE_TABLES, _("the indicator overview")):
    st.stop()
rules_text = ui.rules_caption(path)

# A role without the provisional permission gets no toggle, and its reads return approved waves only.
include_provisional = auth.can(access.PROVISIONAL) and st.toggle(
    _("Include provisional waves"),
    value=False,
    key="overview_include_provisional",
    help=_("Waves the M&E lead has not approved (yet, or no longer: revoked, or the files changed "
    "since the approval). Off: the steering committee sees approved waves only."),
)
all_waves = ui.load("headline_summary", path)
if all_waves.is_empty():
    st.info(_("This warehouse has no indicator estimates yet."))
    st.stop()
summary = all_waves if include_provisional else ui.load("headline_summary", path, approved_only=True)
waves_table = ui.load("waves", path)
provisional_waves = waves_table.filter(~pl.col("is_approved")).select("source_id", "wave_id", "approval_status")


def _wave_list(df: pl.DataFrame) -> str:
    return "; ".join(
        f"`{r['source_id']}` · `{r['wave_id']}` ({_(T.approval_label(r['approval_status'], False))})"
        for r in df.iter_rows(named=True)
    )


if summary.is_empty():
    st.info(
        _("**No survey wave is approved yet**, so there is nothing to show the steering committee. "
            "Estimates stay *provisional* until the M&E lead has reviewed a wave and approved it with "
            "`{APPROVE_COMMAND}` (S = source id, W = wave id); an approval lapses when the wave's "
            "files change. Turn on **Include provisional waves** above to look at them now, labelled "
            "provisional.").format(APPROVE_COMMAND=T.APPROVE_COMMAND),
        icon=":material/pending_actions:",
    )
    if not provisional_waves.is_empty():
        st.caption(_("Waves awaiting approval: ") + _wave_list(provisional_waves) + ".")
    st.stop()

if include_provisional:
    if not provisional_waves.is_empty():
        st.warning(
            _("**Includes provisional waves** — not (or no longer) approved by the M&E lead; figures "
            "may change: ") + _wave_list(provisional_waves) + ".",
            icon=":material/pending_actions:",
        )
elif not provisional_waves.is_empty():
    st.caption(
        _("Approved waves only. Not shown (provisional): ") + _wave_list(provisional_waves)
        + _(". The M&E lead approves a wave with `{APPROVE_COMMAND}`; or turn on **Include provisional "
            "waves**.").format(APPROVE_COMMAND=T.APPROVE_COMMAND)
    )

ui.provenance_banner(summary)

# --- headline table ---------------------------------------------------------------------
st.subheader(_("Headline indicators — latest wave of each source"))
i18n.dataframe(
    T.headline_display(i18n.localize_names(summary, path)),
    hide_index=True,
    column_config={
        "Coverage": st.column_config.TextColumn(
            help=_("governorate-wide, or the part of a governorate the source covers (e.g. one city)")
        ),
        "Governorates with an estimate": st.column_config.NumberColumn(
            help=_("Governorates with a published (not suppressed) estimate; the national estimate is "
            "not a governorate and is not counted")
        ),
        "Sector": st.column_config.TextColumn(
            help=_("The question bank's sectors (data_contracts/question_bank.yaml), in its order")
        ),
        "Scale": st.column_config.TextColumn(
            help=_("When the headline wave asked the question on a scale of its own (e.g. 4 points, no middle "
            "answer), which of its answers count; blank = the question bank's scale")
        ),
        "Headline": st.column_config.TextColumn(
            help=_("The national estimate, “{NATIONAL_LABEL}”, when the survey reached every governorate; "
                "else the median of the governorate estimates; for a single governorate or a "
                "partial-coverage source, the estimate itself").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL))
        ),
        "Across governorates": st.column_config.TextColumn(
            help=_("Context for a national headline: median and range of the governorate estimates")
        ),
        "Waves": st.column_config.NumberColumn(
            help=_("Waves of this source with a published estimate of the indicator")
            + ("" if include_provisional else _(" (approved waves only)"))
        ),
        "Approval": st.column_config.TextColumn(
            help=_("approved by the M&E lead, or provisional (not yet approved, approval revoked, "
            "or files changed since the approval)")
        ),
    },
)
ui.coverage_caption(summary)
ui.scale_caption(summary)
unpublished = summary.filter(pl.col("has_published").not_())
if not unpublished.is_empty():
    st.caption(
        _("No wave has a published estimate for: {names}. Every cell is suppressed (e.g. the question was not "
          "asked).").format(names="; ".join(
              f"{i18n.pick_name(r['indicator_name'], r['name_ar'])} (`{r['source_id']}`)"
              for r in unpublished.iter_rows(named=True)))
    )
distributions = ui.load("indicators", path).filter(pl.col("indicator_type") == "distribution")
if not distributions.is_empty():
    st.caption(
        _("Answer distributions ({names}) are shown in the Indicator explorer.").format(names=", ".join(
            i18n.pick_name(n or i, a) for i, n, a in distributions.select("indicator_id", "name_en", "name_ar").iter_rows()))
    )

# --- one governorate ----------------------------------------------------------------------
estimates = ui.load("service_estimates", path, disaggregation="all")
if not include_provisional:
    estimates = estimates.filter(pl.col("is_approved"))
gov_estimates, national_estimates = T.split_national(estimates)
govs = (
    gov_estimates.select("governorate_pcode", "name_en", "name_ar")
    .unique("governorate_pcode")
    .sort("name_en", "governorate_pcode")
)
gov_names = {
    r["governorate_pcode"]: T.gov_label(r["name_en"], r["name_ar"]) for r in govs.iter_rows(named=True)
}

st.subheader(_("One governorate"))
pcode = url_state.select(
    _("Governorate"),
    list(gov_names),
    format_func=lambda p: gov_names.get(p, p),
    key="overview_governorate",
    param="governorate",
)
if pcode is None:
    st.info(_("No governorate has an estimate in the waves shown."))
    st.stop()
gov_name = i18n.pick_name(*govs.filter(pl.col("governorate_pcode") == pcode).select("name_en", "name_ar").row(0))
snapshot = T.governorate_snapshot(i18n.localize_names(summary, path), i18n.localize_names(gov_estimates), pcode)
covered = snapshot.filter(pl.col("Status") != T.NOT_COVERED)
i18n.dataframe(covered, hide_index=True)
ui.coverage_caption(gov_estimates.filter(pl.col("governorate_pcode") == pcode))
if covered.height < snapshot.height:
    st.caption(
        ngettext("{n} headline indicator has no estimate for {gov_name}: its survey did not cover it.",
                 "{n} headline indicators have no estimate for {gov_name}: their surveys did not cover it.",
                 snapshot.height - covered.height).format(n=snapshot.height - covered.height, gov_name=gov_name)
    )

# --- change between the two latest waves -------------------------------------------------
st.subheader(_("Change between the two latest waves — {gov_name} and {NATIONAL_LABEL}").format(gov_name=gov_name, NATIONAL_LABEL=_(T.NATIONAL_LABEL)))
changes = T.latest_changes(
    ui.load("indicator_changes", path, disaggregation="all"), summary, pcode,
    approved_only=not include_provisional,
)
if changes.is_empty():
    st.info(
        _("No change to show: a change needs two waves of the same source")
        + ("." if include_provisional else _(" that are both approved (turn on **Include provisional waves** "
           "to see changes involving a provisional wave)."))
    )
else:
    i18n.dataframe(T.changes_display(i18n.localize_names(changes, path), overview=True), hide_index=True,
                 column_config={"Change": st.column_config.TextColumn(width="large")})
    st.caption(
        _("A change is called a change only when its 95% confidence interval excludes zero; otherwise it "
        "is “no significant change” with the interval, whichever way the two estimates point. Proportions "
        "change in percentage points (points). A pair where either wave's estimate is suppressed gets no "
        "number, only the reason.")
        + (_(" “provisional (… not approved)”: the change involves a wave the M&E lead has not approved.")
           if not changes.filter(~pl.col("is_approved")).is_empty() else "")
    )

# --- trend ------------------------------------------------------------------------------
st.subheader(_("Trend across waves"))
multi = summary.filter(pl.col("n_waves") >= 2)
if multi.is_empty():
    st.info(_("No source has two waves of any indicator yet, so there is no trend to show."))
    st.stop()

trend_names = dict(
    i18n.localize_names(multi, path).select("indicator_id", "indicator_name").unique("indicator_id")
    .sort("indicator_name").iter_rows()
)
indicator_id = url_state.select(
    _("Indicator"),
    list(trend_names),
    format_func=lambda i: trend_names.get(i, i),
    key="overview_trend_indicator",
    param="indicator",
)
sources = multi.filter(pl.col("indicator_id") == indicator_id)["source_id"].to_list()
ind_rows = estimates.filter((pl.col("indicator_id") == indicator_id) & pl.col("source_id").is_in(sources))
gov_ind_rows, national_rows = T.split_national(ind_rows)
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

gov_rows = gov_ind_rows.filter(pl.col("governorate_pcode") == pcode)
if gov_rows.is_empty():
    st.caption(
        _("{gov_name} has no estimate for this indicator in these sources; the median line is shown "
            "alone.").format(gov_name=gov_name)
    )
if synthetic:
    st.caption(_("Lines marked [{SYNTHETIC_LABEL}] come from generated demonstration data.").format(SYNTHETIC_LABEL=_(T.SYNTHETIC_LABEL)))
st.plotly_chart(
    charts.trend_figure(
        gov_rows, T.wave_medians(gov_ind_rows), waves, gov_name, synthetic, kind, unit, coverage=coverage,
        national_rows=national_rows,
    ),
    key="overview_trend_chart", config=downloads.png_config(f"trend_{indicator_id}_{pcode}"),
)
st.caption(
    _("Error bars: 95% confidence interval of the governorate estimate. Dashed line: median of "
    "the governorates' published estimates in that wave.")
    + (_(" Purple line: the national estimate, “{NATIONAL_LABEL}”, with its 95% CI.").format(NATIONAL_LABEL=_(T.NATIONAL_LABEL)) if not national_rows.is_empty() else "")
    + _(" A suppressed wave shows no point. Whether two waves differ significantly is in the change table above.")
    + (
        _(" A wave marked “(provisional)” is not approved by the M&E lead.")
        if not waves.filter(~pl.col("is_approved")).is_empty()
        else ""
    )
)
