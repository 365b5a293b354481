"""Data quality — for data engineers: runs, files, row accounting, quarantine, exclusions."""

from __future__ import annotations

import json

import polars as pl
import streamlit as st

from dashboards import charts, data, queries, ui
from dashboards import tables as T

path = ui.current_warehouse()

st.title("Data quality")
st.caption(
    "What the last runs loaded, from which files (SHA-256), and where every row went: "
    "read = loaded + excluded + quarantined for each file. Quarantined rows are never loaded; "
    "personal-data columns are dropped before loading."
)

if not ui.check_warehouse(path):
    st.stop()
missing = set(data.missing_tables(path, queries.AUDIT_TABLES))
if len(missing) == len(queries.AUDIT_TABLES):
    st.error(f"The warehouse at `{path}` has no `audit` tables. {ui.BUILD_HINT}", icon=":material/error:")
    st.stop()


def _absent(table: str) -> bool:
    if table in missing:
        st.warning(f"`{table}` is not in this warehouse.")
        return True
    return False


# --- runs -------------------------------------------------------------------------------
st.subheader("Runs")
run_id = None
if not _absent("audit.run_log"):
    runs = ui.load("run_log", path, limit=50)
    if runs.is_empty():
        st.info("No runs recorded yet.")
    else:
        last = runs.row(0, named=True)
        m1, m2, m3, m4 = st.columns(4)
        m1.metric("Last run", str(last["run_id"]))
        m2.metric("Status", str(last["status"]))
        m3.metric("Started", str(last["started_at"])[:19])
        dur = last["duration_seconds"]
        m4.metric("Duration", "–" if dur is None else f"{dur / 60:.1f} min")
        if str(last["status"]).lower() not in {"success", "succeeded", "ok", "published"}:
            st.error(
                f"The last run (`{last['run_id']}`) ended with status **{last['status']}**: see "
                "its summary below and the run log."
            )
        st.dataframe(
            runs.select(
                pl.col("run_id").alias("Run"), pl.col("status").alias("Status"),
                pl.col("started_at").alias("Started"), pl.col("finished_at").alias("Finished"),
                pl.col("duration_seconds").alias("Duration (s)"), pl.col("data_dir").alias("Data folder"),
            ),
            hide_index=True,
        )
        with st.expander(f"Run summary of `{last['run_id']}`"):
            try:
                st.json(json.loads(last["summary_json"] or "{}"))
            except (TypeError, ValueError):
                st.code(str(last["summary_json"]))
        run_ids = runs["run_id"].to_list()
        choice = st.selectbox(
            "Show files, quarantine, exclusions and skipped sources of",
            options=["All runs", *run_ids],
            key="dq_run",
        )
        run_id = None if choice == "All runs" else choice

# --- files ------------------------------------------------------------------------------
st.subheader("Files loaded")
if not _absent("audit.file_registry"):
    files = ui.load("file_registry", path, run_id=run_id)
    if files.is_empty():
        st.info("No files recorded for this selection.")
    else:
        bad = files.filter(~pl.col("accounting_ok"))
        t1, t2, t3, t4 = st.columns(4)
        t1.metric("Files", files.height)
        t2.metric("Rows read", int(files["rows_read"].sum()))
        t3.metric("Rows loaded", int(files["rows_loaded"].sum()))
        t4.metric("Files that do not balance", bad.height)
        if bad.height:
            st.error(
                "Row accounting does not balance for: "
                + ", ".join(f"`{r['source_id']}/{r['file_name']}`" for r in bad.iter_rows(named=True))
            )
        st.dataframe(
            T.file_registry_display(files),
            hide_index=True,
            column_config={"SHA-256": st.column_config.TextColumn(width="medium")},
        )

# --- quarantine -------------------------------------------------------------------------
st.subheader("Quarantined rows")
if not _absent("audit.quarantine"):
    q = ui.load("quarantine_by_reason", path, run_id=run_id)
    if q.is_empty():
        st.success("No quarantined rows.")
    else:
        left, right = st.columns([2, 3])
        with left:
            st.plotly_chart(
                charts.count_bars(q, "reason", "n_rows", "rows quarantined"), key="dq_quarantine_chart"
            )
        with right:
            st.dataframe(
                q.rename({"source_id": "Source", "column_name": "Column", "reason": "Reason",
                          "n_rows": "Rows", "n_cells": "Failing cells"}),
                hide_index=True,
            )
        st.caption("Sample of quarantined cells (up to 200), in file order:")
        st.dataframe(ui.load("quarantine_sample", path, run_id=run_id, limit=200), hide_index=True)

# --- exclusions -------------------------------------------------------------------------
st.subheader("Excluded rows")
if not _absent("audit.exclusions"):
    ex = ui.load("exclusions_by_reason", path, run_id=run_id)
    if ex.is_empty():
        st.info("No rows were excluded (e.g. for missing consent).")
    else:
        st.dataframe(
            ex.rename({"source_id": "Source", "reason": "Reason", "n_rows": "Rows", "n_files": "Files"}),
            hide_index=True,
        )

# --- dropped columns and skipped sources ------------------------------------------------
c1, c2 = st.columns(2)
with c1:
    st.subheader("Dropped personal-data columns")
    if not _absent("audit.dropped_columns"):
        dropped = ui.load("dropped_columns", path)
        if dropped.is_empty():
            st.info("No columns were dropped.")
        else:
            st.dataframe(dropped, hide_index=True)
with c2:
    st.subheader("Skipped sources")
    if not _absent("audit.skipped_sources"):
        skipped = ui.load("skipped_sources", path, run_id=run_id)
        if skipped.is_empty():
            st.success("No source was skipped.")
        else:
            st.dataframe(skipped, hide_index=True)
