"""Budget execution — share of the approved allocation spent, by governorate and fiscal year."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, i18n, queries, ui, url_state
from dashboards import tables as T
from dashboards.i18n import _

path = ui.current_warehouse()

st.title(_("Budget execution"))
if not ui.require_tables(path, queries.BUDGET_TABLES, _("budget execution")):
    st.stop()

# Years without a federal budget law: marts.dim_fiscal_year (budget_law false); an older warehouse without
# the table falls back to the years known when the dashboard was written.
fiscal = ui.load("fiscal_years", path)
no_law = T.no_law_years(fiscal)
cpi_base = next((y for y in fiscal["cpi_base_year"].to_list() if y is not None), None) if fiscal.height else None
st.caption(
    _("Execution rate = expenditure / original approved allocation (PEFA PI-1), by governorate "
        "and fiscal year. A year without published figures is shown as **no data**, and a "
        "governorate the source does not cover as **not reported**, never as zero; Iraq passed no "
        "federal budget law for {years}: such a year reads **no budget law**.").format(years=', '.join(str(y) for y in sorted(no_law)))
    + ("" if fiscal.height else _(" (This warehouse has no `marts.dim_fiscal_year`: those years are the "
       "dashboard's own list.)"))
)

budget = ui.load("budget_execution", path)
if budget.is_empty():
    st.info(
        _("This warehouse has no budget data. Add budget files under `DIR/budget/` and rerun "
        "`mizan run --data-dir DIR`.")
    )
    st.stop()

ui.provenance_banner(budget)

sources = budget["source_id"].unique(maintain_order=True).to_list()
c1, c2 = st.columns(2)
with c1:
    synthetic_sources = set(budget.filter(pl.col("is_synthetic").fill_null(False))["source_id"].to_list())
    source_id = url_state.select(
        _("Source"), sources, "budget_source", param="source",
        format_func=lambda s: f"{s}  [{_(T.data_label(s in synthetic_sources))}]",
    )
by_source = budget.filter(pl.col("source_id") == source_id)
scopes = by_source["budget_scope"].unique(maintain_order=True).to_list()
with c2:
    scope = url_state.select(_("Budget scope"), scopes, "budget_scope", param="scope", format_func=_,
                             default_index=scopes.index("total") if "total" in scopes else 0)
selected = by_source.filter(pl.col("budget_scope") == scope)

is_synthetic = source_id in synthetic_sources
label = T.data_label(is_synthetic)
st.subheader(_("Execution rate — `{source_id}`, {scope} budget  [{label}]").format(source_id=source_id, scope=_(scope), label=_(label)))
if not T.budget_has_amounts(selected):
    st.caption(_("Execution rate as published; no amounts."))
else:
    currency = ", ".join(sorted({u for u in selected["unit"].to_list() if u}))
    if currency:
        big = selected.select(
            pl.max_horizontal(pl.col("allocation").abs(), pl.col("expenditure").abs()).max()
        ).item()
        st.caption(
            _("Amounts in {currency}").format(currency=currency)
            + (_(" (bn = billion, m = million).") if big is not None and big >= 1e6 else ".")
        )
partial = selected.filter(pl.col("is_partial").fill_null(False))
if partial.height:
    months = sorted({m for m in partial["period_months"].to_list() if m is not None})
    span = (" " + _("({months} months of the fiscal year)").format(months=", ".join(str(m) for m in months))
            if months else "")
    st.warning(
        _("**Partial source** — `{source_id}` covers only part of the year or of the "
            "governorates{span}. Its figures are labelled *partial*: they are not a whole year and are "
            "not compared with whole years, and a governorate it does not list is **not reported**, "
            "not zero.").format(source_id=source_id, span=span),
        icon=":material/timelapse:",
    )
as_of = T.budget_as_of(selected)
if as_of:
    dates = ", ".join(f"{d} (FY{y})" for y, d in as_of)
    st.caption(
        _("Figures as of {dates}: execution rates are **year to date** at that date, not full-year "
            "results.").format(dates=dates)
    )

governorates = ui.load("governorates", path)
matrix = T.budget_matrix(selected, governorates, no_law=no_law)
st.plotly_chart(
    charts.budget_heatmap(
        matrix, title=_("Execution rate — {source_id}, {scope} budget").format(source_id=source_id, scope=_(scope)),
        synthetic=is_synthetic
    ),
    key="budget_heatmap",
)
st.caption(
    _("Grey cells: **no data** (nothing published for that governorate and year), **not reported** "
    "(the source does not cover that governorate at all) or **no rate** (figures published "
    "without an allocation to compare with). They are not zero.")
    + (_(" Hover a cell for its as-of date.") if as_of else "")
    + _(" **no budget law**: a fiscal year without a federal budget law (beside a value when the source has "
    "figures for it). **(partial)**: a figure from a partial source, not a whole year.")
)
with st.expander(_("Execution rate as a table")):
    i18n.dataframe(T.budget_pivot(matrix), hide_index=True)

# ---- per capita and execution against the revised allocation (columns of fct_budget_execution; formulas in docs/methodology.md, Budget execution)
budget_columns = set(ui.load("table_columns", path, table="marts.fct_budget_execution")["column_name"].to_list())
missing_pc = [c for c in queries.BUDGET_PER_CAPITA_COLUMNS if c not in budget_columns]
st.subheader(_("Per capita — `{source_id}`, {scope} budget  [{label}]").format(source_id=source_id, scope=_(scope), label=_(label)))
if missing_pc:
    st.info(
        _("This warehouse predates per-capita amounts and the revised-allocation execution rate "
            "(`marts.fct_budget_execution` has no `{column}`").format(column=missing_pc[0])
        + (_(" and {n} more columns").format(n=len(missing_pc) - 1) if len(missing_pc) > 1 else "")
        + _("). Rebuild it with "
        "`mizan run --data-dir DIR` to see them."),
        icon=":material/info:",
    )
else:
    currencies = ["IQD", "USD", "constant IQD"]
    c1, c2 = st.columns(2)
    with c1:
        measure = st.radio(_("Amount"), ["expenditure", "allocation"], horizontal=True, key="budget_pc_measure",
                           format_func=lambda m: _("Expenditure") if m == "expenditure" else _("Original allocation"))
    with c2:
        currency = st.radio(_("Currency"), currencies, horizontal=True, key="budget_pc_currency",
                            format_func=lambda c: T.currency_label(c, cpi_base))
    column = T.PER_CAPITA_COLUMNS[(measure, currency)]
    unit = T.currency_label(currency, cpi_base)
    measure_label = _("Expenditure") if measure == "expenditure" else _("Original allocation")
    st.caption(
        _("{measure} per person, in **{unit}**. Per capita = amount / population of that "
            "governorate and year. Amounts in USD are converted at the official rate of the fiscal "
            "year (`dim_fiscal_year.iqd_per_usd`), and IQD amounts to USD the same way. Constant IQD = "
            "nominal IQD / (CPI of the year / CPI of {base_year}), the CPI base year of this build.").format(measure=measure_label, unit=unit, base_year=cpi_base or _("the base year"))
    )
    if selected[column].null_count() == selected.height:
        why = (_("the source publishes no amounts") if not T.budget_has_amounts(selected)
               else _("the source has no amounts of this kind, or no population for those years"))
        st.info(_("No per-capita {measure} for `{source_id}`, {scope} budget: {why}.").format(measure=measure_label, source_id=source_id, scope=_(scope), why=why), icon=":material/info:")
    else:
        pc_matrix = T.budget_matrix(
            selected, governorates, value_col=column, scale=1.0, no_law=no_law,
            fmt=lambda v, c=currency: T.fmt_per_capita(v, c),
        )
        i18n.dataframe(T.budget_pivot(pc_matrix), hide_index=True)
        methods = sorted({m for m in selected["population_method"].to_list() if m})
        if methods:
            st.caption(_("Population: {methods} (`stg_reference__population`).").format(methods=', '.join(methods)))

    st.subheader(_("Executed against the original and the revised allocation"))
    st.caption(
        _("Executed / original allocation = expenditure / original approved allocation (PEFA PI-1, as in the "
        "heatmap). Executed / revised allocation = expenditure / revised allocation, when every line of the "
        "cell carries both; '–' when the source publishes no revised allocation.")
    )
    i18n.dataframe(T.execution_compare_display(selected, no_law), hide_index=True)

# ---- PEFA indicators (marts.fct_budget_pefa)
st.subheader(_("PEFA indicators — `{source_id}`  [{label}]").format(source_id=source_id, label=_(label)))
if queries.PEFA_TABLE in ui.missing_tables(path, [queries.PEFA_TABLE]):
    st.info(
        _("This warehouse has no `{PEFA_TABLE}` (it predates the PEFA indicators). Rebuild it with "
            "`mizan run --data-dir DIR` to see them.").format(PEFA_TABLE=queries.PEFA_TABLE),
        icon=":material/info:",
    )
else:
    pefa = ui.load("budget_pefa", path, source_id=source_id)
    st.caption(
        _("All budget scopes of the source together, in IQD (USD lines at the year's official rate; "
            "the ratios do not depend on the currency). **PI-1 outturn** = total actual expenditure / "
            "total original allocation. **PI-2 composition variance** = Σ|Aᵢ − Bᵢ·ΣA/ΣB| / ΣA over the "
            "lines i (sector × economic type × funding stream; A actual, B original allocation): how "
            "much spending was moved between lines, not how much was spent. **Capital share** = "
            "capital / (capital + operating). **Allocation share / population share** = the "
            "governorate's share of the source's allocations that year / its share of the population "
            "of the governorates the source reports (1 = in proportion to population; not computed for "
            "a partial source). **Real change** = constant IQD of {base_year} / the previous fiscal year's "
            "− 1; when the two years are not comparable (no data, no budget law, partial) the reason "
            "is shown instead of a number. PEFA scores are not given: governorate budgets are not the "
            "central government's.").format(base_year=cpi_base or _("the CPI base year"))
    )
    if pefa.is_empty():
        st.info(_("`{source_id}` has no PEFA indicators (no budget lines with amounts).").format(source_id=source_id), icon=":material/info:")
    else:
        if pefa["is_partial"].fill_null(False).any():
            st.caption(
                _("Rows marked **partial** come from a partial source: PI-1 compares part of a year's spending "
                "with a whole year's allocation and is not a full-year outturn.")
            )
        i18n.dataframe(T.pefa_display(pefa, no_law), hide_index=True)
        st.download_button(
            _("Download PEFA indicators (CSV)"),
            data=T.to_csv_bytes(T.pefa_export(pefa)),
            file_name=f"mizan_budget_pefa_{source_id}.csv",
            mime="text/csv",
            on_click="ignore",
            key="pefa_download",
        )

st.subheader(_("All budget rows"))
st.caption(
    _("'Rate is' tells whether the execution rate was published by the source or computed here as "
    "expenditure / allocation.")
)
i18n.dataframe(T.budget_display(budget, no_law), hide_index=True)
st.download_button(
    _("Download budget rows (CSV)"),
    data=T.to_csv_bytes(
        budget.with_columns(
            pl.col("is_synthetic").map_elements(T.data_label, return_dtype=pl.String).alias("data")
        )
    ),
    file_name="mizan_budget_execution.csv",
    mime="text/csv",
    on_click="ignore",
    key="budget_download",
)
