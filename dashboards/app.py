"""mizan dashboard — entry point.

    streamlit run dashboards/app.py -- --warehouse PATH
    MIZAN_WAREHOUSE=PATH streamlit run dashboards/app.py
    streamlit run dashboards/app.py            # ./warehouse/mizan.duckdb

The warehouse path is a pointer to the current published snapshot (pipelines/publish.py). Each
script run resolves it once; every page then reads that one immutable snapshot file, read-only, one
short-lived connection per query (dashboards/queries.py), with results cached per snapshot
(dashboards/data.py). Every page starts with "Data as of <publish time> UTC · run <run id>".
"""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run dashboards/app.py` puts dashboards/ (not the repository) on sys.path; make the
# package importable when mizan is not installed into the environment.
_REPO = Path(__file__).resolve().parent.parent
if str(_REPO) not in sys.path:
    try:
        import dashboards  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(_REPO))

from dashboards import ui  # noqa: E402

st.set_page_config(page_title="mizan — decentralization survey dashboard", layout="wide")

pointer = str(ui.resolve_warehouse_path())
snapshot = ui.use_snapshot(pointer)  # resolved once for this script run; every page reads this file

_PAGES = Path(__file__).resolve().parent / "views"
page = st.navigation(
    {
        "Steering committee": [
            st.Page(_PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
            st.Page(_PAGES / "results_framework.py", title="Results framework", icon=":material/flag:"),
        ],
        "M&E": [
            st.Page(
                _PAGES / "indicator_explorer.py", title="Indicator explorer", icon=":material/query_stats:"
            ),
            st.Page(
                _PAGES / "budget_execution.py", title="Budget execution", icon=":material/account_balance:"
            ),
            st.Page(
                _PAGES / "service_vs_spending.py", title="Spending and services", icon=":material/scatter_plot:"
            ),
        ],
        "Data engineering": [
            st.Page(_PAGES / "data_quality.py", title="Data quality", icon=":material/fact_check:"),
        ],
    }
)

with st.sidebar:
    st.caption(f"Warehouse (read-only): `{pointer}`")
    st.caption(f"Snapshot: {ui.snapshot_caption(snapshot, pointer) if snapshot else 'none published'}")

if snapshot is None:
    ui.no_warehouse_error(pointer)
elif ui.check_warehouse(snapshot):
    ui.data_as_of_banner(snapshot)
    page.run()
