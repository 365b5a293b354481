"""Budget execution — share of the approved allocation spent, by governorate and fiscal year."""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import charts, queries, ui
from dashboards import tables as T

path = ui.current_warehouse()

st.title("Budget execution")
st.caption(
    "Execution rate = expenditure / original approved allocation (PEFA PI-1), by governorate and "
    "fiscal year. A year without published figures is shown as **no data**, and a governorate "
    "the source does not cover as **not reported**, never as zero; Iraq passed no federal budget "
    "law for 2014, 2020 and 2022."
)

if not ui.require_tables(path, queries.BUDGET_TABLES, "budget execution"):
    st.stop()

budget = ui.load("budget_execution", path)
if budget.is_empty():
    st.info(
        "This warehouse has no budget data. Add budget files under `DIR/budget/` and rerun "
        "`mizan run --data-dir DIR`."
    )
    st.stop()

ui.provenance_banner(budget)

sources = budget["source_id"].unique(maintain_order=True).to_list()
c1, c2 = st.columns(2)
with c1:
    if st.session_state.get("budget_source") not in sources:
        st.session_state.pop("budget_source", None)
    synthetic_sources = set(budget.filter(pl.col("is_synthetic").fill_null(False))["source_id"].to_list())
    source_id = st.selectbox(
        "Source",
        options=sources,
        format_func=lambda s: f"{s}  [{T.data_label(s in synthetic_sources)}]",
        key="budget_source",
    )
by_source = budget.filter(pl.col("source_id") == source_id)
scopes = by_source["budget_scope"].unique(maintain_order=True).to_list()
with c2:
    if st.session_state.get("budget_scope") not in scopes:
        st.session_state.pop("budget_scope", None)
    scope = st.selectbox(
        "Budget scope",
        options=scopes,
        index=scopes.index("total") if "total" in scopes else 0,
        key="budget_scope",
    )
selected = by_source.filter(pl.col("budget_scope") == scope)

is_synthetic = source_id in synthetic_sources
label = T.data_label(is_synthetic)
st.subheader(f"Execution rate — `{source_id}`, {scope} budget  [{label}]")
if not T.budget_has_amounts(selected):
    st.caption(f"{T.NO_AMOUNTS[0].upper()}{T.NO_AMOUNTS[1:]}.")
else:
    currency = ", ".join(sorted({u for u in selected["unit"].to_list() if u}))
    if currency:
        big = selected.select(
            pl.max_horizontal(pl.col("allocation").abs(), pl.col("expenditure").abs()).max()
        ).item()
        st.caption(
            f"Amounts in {currency}"
            + (" (bn = billion, m = million)." if big is not None and big >= 1e6 else ".")
        )
as_of = T.budget_as_of(selected)
if as_of:
    dates = ", ".join(f"{d} (FY{y})" for y, d in as_of)
    st.caption(
        f"Figures as of {dates}: execution rates are **year to date** at that date, not full-year "
        "results."
    )

governorates = ui.load("governorates", path)
matrix = T.budget_matrix(selected, governorates)
st.plotly_chart(
    charts.budget_heatmap(
        matrix, title=f"Execution rate — {source_id}, {scope} budget", synthetic=is_synthetic
    ),
    key="budget_heatmap",
)
st.caption(
    "Grey cells: **no data** (nothing published for that governorate and year), **not reported** "
    "(the source does not cover that governorate at all) or **no rate** (figures published "
    "without an allocation to compare with). They are not zero."
    + (" Hover a cell for its as-of date." if as_of else "")
)
with st.expander("Execution rate as a table"):
    st.dataframe(T.budget_pivot(matrix), hide_index=True)

st.subheader("All budget rows")
st.caption(
    "'Rate is' tells whether the execution rate was published by the source or computed here as "
    "expenditure / allocation."
)
st.dataframe(T.budget_display(budget), hide_index=True)
st.download_button(
    "Download budget rows (CSV)",
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
