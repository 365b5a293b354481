"""Spending and services — sector spending per person beside the matching service indicator, one point per
governorate (marts.fct_service_vs_spending). An association, not a cause."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, downloads, i18n, queries, ui, url_state
from dashboards import tables as T
from dashboards.i18n import _

path = ui.current_warehouse()

st.title(_("Spending and services"))
st.caption(
    _("Does a governorate that spends more per person on a sector also report better services in that "
    "sector? Each point is one governorate: how much was spent (or allocated) per person on the sector in "
    "a fiscal year, and what households said about the matching service in a survey wave whose fieldwork "
    "fell in that year.")
)

if not ui.require_tables(path, ("marts.dim_governorate",), _("spending and services")):
    st.stop()
if ui.missing_tables(path, [queries.SERVICE_SPENDING_TABLE]):
    st.info(
        _("This warehouse has no `{SERVICE_SPENDING_TABLE}` (it predates the comparison of spending "
            "and services). Rebuild it with `mizan run --data-dir DIR` to see this page.").format(SERVICE_SPENDING_TABLE=queries.SERVICE_SPENDING_TABLE),
        icon=":material/info:",
    )
    st.stop()

data = ui.load("service_vs_spending", path)
if data.is_empty():
    # say why: no survey wave's fieldwork falls in a fiscal year with sector spending
    waves = ui.load("waves", path)
    wave_years = sorted(
        {
            (r["fieldwork_start"] + (r["fieldwork_end"] - r["fieldwork_start"]) / 2).year
            if r["fieldwork_start"] is not None and r["fieldwork_end"] is not None
            else (r["fieldwork_start"] or r["fieldwork_end"]).year
            for r in waves.iter_rows(named=True)
            if r["fieldwork_start"] is not None or r["fieldwork_end"] is not None
        }
    )
    budget = ui.load("budget_execution", path) if not ui.missing_tables(path, queries.BUDGET_TABLES) else pl.DataFrame()
    budget_years = sorted(set(budget["fiscal_year"].to_list())) if budget.height else []
    st.info(
        _("**Nothing to compare in this warehouse.** A survey wave is matched to the fiscal year in "
            "which the middle of its fieldwork falls, and only with budget lines of a sector (water, "
            "electricity, health, education, waste collection, roads) for the same governorate and "
            "year. No wave's fieldwork falls in a fiscal year with such sector spending.\n\n- Survey "
            "waves have fieldwork in: {wave_years}\n- Budget figures cover fiscal years: {budget_years} (sector "
            "lines are needed; totals by economic type alone match no indicator)").format(wave_years=', '.join(map(str, wave_years)) or _('no wave with fieldwork dates'), budget_years=', '.join(map(str, budget_years)) or 'none'),
        icon=":material/info:",
    )
    st.stop()

# provenance: the budget source and the survey source of every row
sources = pl.concat(
    [
        data.select(pl.col("budget_source_id").alias("source_id"), "is_synthetic"),
        data.select(pl.col("survey_source_id").alias("source_id"), "is_synthetic"),
    ]
)
ui.provenance_banner(sources)

# ---- filters
sector_name_col = i18n.name_column(base="sector_name")
sectors = data.select("sector", pl.col(sector_name_col if sector_name_col in data.columns else "sector_name")
                      .alias("sector_name")).unique(maintain_order=True)
sector_names = dict(sectors.iter_rows())
c1, c2, c3, c4 = st.columns(4)


with c1:
    sector = url_state.select(_("Sector"), sectors["sector"].to_list(), "svs_sector", param="sector",
                              format_func=lambda s: sector_names.get(s) or T.words(s))
by_sector = data.filter(pl.col("sector") == sector)
with c2:
    indicators = by_sector.select("indicator_id", "indicator_name").unique(maintain_order=True)
    names_ar = i18n.indicator_names_ar(path)
    names = dict(indicators.iter_rows())
    indicator_id = url_state.select(_("Indicator"), indicators["indicator_id"].to_list(), "svs_indicator",
                                    param="indicator",
                                    format_func=lambda i: i18n.pick_name(names.get(i) or i, names_ar.get(i)))
by_indicator = by_sector.filter(pl.col("indicator_id") == indicator_id)
with c3:
    year = url_state.select(_("Fiscal year"), sorted(set(by_indicator["fiscal_year"].to_list()), reverse=True),
                            "svs_year", param="year")
by_year = by_indicator.filter(pl.col("fiscal_year") == year)
with c4:
    partial_sources = set(by_year.filter(pl.col("is_partial").fill_null(False))["budget_source_id"].to_list())
    budget_source = url_state.select(
        _("Budget source"), by_year["budget_source_id"].unique(maintain_order=True).to_list(), "svs_budget_source",
        param="source", format_func=lambda s: _("{source} (partial)").format(source=s) if s in partial_sources else s,
    )
by_source = by_year.filter(pl.col("budget_source_id") == budget_source)
waves = by_source.select("survey_source_id", "wave_id", "approval_status", "is_approved").unique(maintain_order=True)
wave_keys = [f"{s}|{w}" for s, w, _a, _ok in waves.iter_rows()]
wave_labels = {
    f"{s}|{w}": f"{s} · {w}" + ("" if T.approval_label(a, ok) == T.APPROVED_LABEL else f" — {_(T.approval_label(a, ok))}")
    for s, w, a, ok in waves.iter_rows()
}
if len(wave_keys) > 1:
    wave_key = url_state.select(_("Survey · wave"), wave_keys, "svs_wave", param="wave", format_func=wave_labels.get)
else:
    wave_key = wave_keys[0]
survey_source, wave_id = wave_key.split("|", 1)
selected = by_source.filter((pl.col("survey_source_id") == survey_source) & (pl.col("wave_id") == wave_id))

cpi_base = next((y for y in selected["cpi_base_year"].to_list() if y is not None), None)
c1, c2 = st.columns(2)
with c1:
    measure = st.radio(_("Spending"), ["expenditure", "allocation"], horizontal=True, key="svs_measure",
                       format_func=lambda m: _("Expenditure") if m == "expenditure" else _("Original allocation"))
with c2:
    currency = st.radio(_("Currency"), ["IQD", "constant IQD"], horizontal=True, key="svs_currency",
                        format_func=lambda c: T.currency_label(c, cpi_base))
x_col = T.SPENDING_COLUMNS[(measure, currency)]
unit = T.currency_label(currency, cpi_base)
measure_label = _("Expenditure") if measure == "expenditure" else _("Original allocation")
x_title = _("{measure} per person ({unit})").format(measure=measure_label, unit=unit)

# ---- what is plotted, and what is not
selected = T.mask_spending_suppressed(selected)
suppressed = selected.filter(pl.col("is_suppressed").fill_null(True))
published = selected.filter(~pl.col("is_suppressed").fill_null(True))
plotted = published.filter(pl.col(x_col).is_not_null() & pl.col("estimate").is_not_null())
no_spending = published.filter(pl.col(x_col).is_null())

is_partial = bool(selected["is_partial"].fill_null(False).any())
is_synthetic = bool(selected["is_synthetic"].fill_null(False).any())
approval = T.approval_label(selected["approval_status"][0], selected["is_approved"][0])
approval_text = _(approval)
indicator_name = i18n.pick_name(names.get(indicator_id) or indicator_id, names_ar.get(indicator_id))
sector_label = sector_names.get(sector) or T.words(sector)

if is_partial:
    st.warning(
        _("**Partial source** — `{budget_source}` covers only part of fiscal year {year} or of the "
            "governorates. Its per-person spending is not a whole year's: points are hollow and "
            "labelled *partial*; do not read them against whole years. A governorate it does not list "
            "is **not reported**, not zero.").format(budget_source=budget_source, year=year),
        icon=":material/timelapse:",
    )
if approval != T.APPROVED_LABEL:
    st.warning(_("Survey wave `{survey_source}` · `{wave_id}` is **{approval}**: the M&E lead has not "
        "approved it.").format(survey_source=survey_source, wave_id=wave_id, approval=approval_text),
               icon=":material/pending:")

title = (
    _("{indicator} vs {measure} per person on {sector} — FY{year}, {source}").format(
        indicator=indicator_name, measure=measure_label, sector=sector_label, year=year, source=budget_source)
    + (_(" (partial)") if is_partial else "")
    + ("" if approval == T.APPROVED_LABEL else _(", {approval} wave").format(approval=approval_text))
)
if plotted.is_empty():
    st.info(
        _("No governorate has both a published estimate and per-person spending for this choice")
        + (_(" (every estimate is suppressed).") if published.is_empty() else
           _(" (no population or no amount for the spending measure chosen)."))
    )
else:
    st.plotly_chart(
        charts.spending_scatter(plotted, x_col, x_title, title=title, synthetic=is_synthetic),
        key="svs_scatter", config=downloads.png_config(f"service_vs_spending_{indicator_id}_{year}"),
    )
st.caption(
    _("**An association, not a cause.** Governorates that spend more are not shown to get better services "
    "*because* of it: needs, prices, past investment, security and who was surveyed all differ between "
    "governorates, and money spent in a year may show in services only years later.")
)
st.caption(
    _("x: {measure} on the sector in fiscal year {year} / population of that governorate and "
        "year, in {unit}").format(measure=measure_label, year=year, unit=unit)
    + (_(" (constant IQD = nominal IQD / (CPI of {year} / CPI of {cpi_base}))").format(year=year, cpi_base=cpi_base) if currency == "constant IQD" else "")
    + _(". y: the survey estimate with its 95% confidence interval (error bars), wave `{wave_id}` "
        "of `{survey_source}`, fieldwork midpoint in {year}. Amber points: unreliable (wide CI).").format(wave_id=wave_id, survey_source=survey_source, year=year)
)

notes = []
if suppressed.height:
    items = ", ".join(
        f"{i18n.pick_name(r['name_en'], r['name_ar'])}: {_(T.status_label(True, r['suppression_reason'], None))}"
        for r in suppressed.iter_rows(named=True)
    )
    notes.append(_("Not plotted — **suppressed** estimates (too few respondents to publish): {items}.").format(
        items=items))
if no_spending.height:
    notes.append(_("Not plotted — no per-person spending (no population or no amount): {names}.").format(
        names=", ".join(i18n.pick_name(e, a) for e, a in no_spending.select("name_en", "name_ar").iter_rows())))
governorates, _national = T.split_national(ui.load("governorates", path))
budget_rows = ui.load("budget_execution", path, source_id=budget_source)
reported = set(budget_rows.filter(pl.col("fiscal_year") == year)["governorate_pcode"].to_list())
in_data = set(selected["governorate_pcode"].to_list())
missing = governorates.filter(~pl.col("governorate_pcode").is_in(list(in_data)))
name_col = i18n.name_column() if i18n.name_column() in governorates.columns else "name_en"
not_reported = missing.filter(~pl.col("governorate_pcode").is_in(list(reported)))[name_col].to_list()
no_estimate = missing.filter(pl.col("governorate_pcode").is_in(list(reported)))[name_col].to_list()
if not_reported:
    notes.append(_("**Not reported** by `{source}` for {year} (not zero): {names}.").format(
        source=budget_source, year=year, names=", ".join(map(str, not_reported))))
if no_estimate:
    notes.append(_("No spending line for {sector} or no estimate in this wave: {names}.").format(
        sector=sector_label, names=", ".join(map(str, no_estimate))))
for note in notes:
    st.caption(note)

st.subheader(_("The points as a table"))
kind, ind_unit = selected["indicator_type"][0], selected["indicator_unit"][0]
rows = []
for r in selected.sort("name_en").iter_rows(named=True):
    supp = r["is_suppressed"] is not False
    rows.append({
        "Governorate": i18n.pick_name(r["name_en"], r["name_ar"]),
        x_title: T.fmt_number(r[x_col], 0) + (_(" (partial)") if r["is_partial"] and r[x_col] is not None else ""),
        "Estimate": T.DASH if supp else T.fmt_value(r["estimate"], kind, ind_unit),
        "95% CI": T.DASH if supp else T.fmt_ci(r["ci_lower"], r["ci_upper"], kind, ind_unit),
        "n": r["n_unweighted"],
        "Status": T.status_label(r["is_suppressed"], r["suppression_reason"], r["is_unreliable"]),
        "Budget law": T.budget_law_label(r["budget_law"]),
        "Approval": T.approval_label(r["approval_status"], r["is_approved"]),
        "Data": T.data_label(r["is_synthetic"]),
    })
i18n.dataframe(pl.DataFrame(rows), hide_index=True)
st.download_button(
    _("Download these rows (CSV)"),
    data=T.to_csv_bytes(T.spending_export(selected)),
    file_name=f"mizan_service_vs_spending_{indicator_id}_{year}_{budget_source}.csv",
    mime="text/csv",
    on_click="ignore",
    key="svs_download",
)
downloads.download_buttons(T.spending_export(selected), f"service_vs_spending_{indicator_id}_{year}_{budget_source}",
                           key="svs_xlsx", csv=False, as_of=ui.data_as_of_text(ui.snapshot_identity(path)))
st.caption(_("Suppressed rows carry no estimate, standard error or interval in the table or the CSV."))
