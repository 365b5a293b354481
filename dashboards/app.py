"""mizan dashboard — entry point.

    streamlit run dashboards/app.py -- --warehouse PATH
    MIZAN_WAREHOUSE=PATH streamlit run dashboards/app.py
    streamlit run dashboards/app.py            # ./warehouse/mizan.duckdb

The warehouse is opened read-only, one short-lived connection per query (dashboards/queries.py);
results are cached per warehouse snapshot (dashboards/data.py).
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

warehouse = str(ui.resolve_warehouse_path())
st.session_state[ui.SESSION_KEY] = warehouse

_PAGES = Path(__file__).resolve().parent / "pages"
page = st.navigation(
    {
        "Steering committee": [
            st.Page(_PAGES / "overview.py", title="Overview", icon=":material/dashboard:", default=True),
        ],
        "M&E": [
            st.Page(
                _PAGES / "indicator_explorer.py", title="Indicator explorer", icon=":material/query_stats:"
            ),
            st.Page(
                _PAGES / "budget_execution.py", title="Budget execution", icon=":material/account_balance:"
            ),
        ],
        "Data engineering": [
            st.Page(_PAGES / "data_quality.py", title="Data quality", icon=":material/fact_check:"),
        ],
    }
)

with st.sidebar:
    st.caption(f"Warehouse (read-only): `{warehouse}`")
    st.caption(f"Snapshot: {ui.snapshot_caption(warehouse)}")

if ui.check_warehouse(warehouse):
    page.run()
