"""mizan dashboard — entry point.

    streamlit run dashboards/app.py -- --warehouse PATH
    MIZAN_WAREHOUSE=PATH streamlit run dashboards/app.py
    streamlit run dashboards/app.py            # ./warehouse/mizan.duckdb

The warehouse path is a pointer to the current published snapshot (pipelines/publish.py). Each
script run resolves it once; every page then reads that one immutable snapshot file, read-only, one
short-lived connection per query (dashboards/queries.py), with results cached per snapshot
(dashboards/data.py). Every page starts with "Data as of <publish time> UTC · run <run id>".

Sign-in first (dashboards/auth.py): a session that is not signed in gets the sign-in form and
nothing else. A signed-in session's navigation lists the pages its role may see (``PAGES``); what
it may read is enforced in the query layer (dashboards/access.py).
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

from dashboards import access, auth, ui, url_state  # noqa: E402

# An icon of our own: a page's Material icon would become the favicon, fetched from fonts.gstatic.com
# (a console error offline).
st.set_page_config(page_title="mizan — decentralization survey dashboard", page_icon="⚖️", layout="wide")

url_state.keep_language()
pointer = str(ui.resolve_warehouse_path())
st.session_state[ui.POINTER_KEY] = pointer  # the users store lives beside the pointer
user = auth.session_user()
_PAGES = Path(__file__).resolve().parent / "views"
# One line per page: its section, file, title, icon and the permission it needs (dashboards/access.py).
# A role sees only the pages it may; each page also refuses itself, and every read checks the role.
PAGES = [
    {"section": "Steering committee", "file": "overview.py", "title": "Overview", "icon": "dashboard", "needs": access.PUBLISHED, "default": True},
    {"section": "Steering committee", "file": "results_framework.py", "title": "Results framework", "icon": "flag", "needs": access.PUBLISHED},
    {"section": "Steering committee", "file": "budget_execution.py", "title": "Budget execution", "icon": "account_balance", "needs": access.PUBLISHED},
    {"section": "Steering committee", "file": "service_vs_spending.py", "title": "Spending and services", "icon": "scatter_plot", "needs": access.PUBLISHED},
    {"section": "M&E", "file": "indicator_explorer.py", "title": "Indicator explorer", "icon": "query_stats", "needs": access.DESIGN},
    {"section": "M&E", "file": "approvals.py", "title": "Wave approval", "icon": "approval", "needs": access.APPROVE},
    {"section": "Data engineering", "file": "data_quality.py", "title": "Data quality", "icon": "fact_check", "needs": access.QUALITY},
    {"section": "Admin", "file": "users.py", "title": "Users", "icon": "manage_accounts", "needs": access.USERS},
]
if user is None:  # nothing but the sign-in form: no pages, no warehouse path, no data
    # The form answers at every page's URL path too, so a shared link (path and query) survives signing in:
    # a page's script hash is its URL path, hence the rerun after sign-in runs the page the link named.
    st.navigation([st.Page(auth.sign_in_page, title="Sign in", icon=":material/login:", default=True)] + [
        st.Page(auth.sign_in_page, title=spec["title"], url_path=Path(spec["file"]).stem)
        for spec in PAGES if not spec.get("default")], position="hidden").run()
    st.stop()

snapshot = ui.use_snapshot(pointer)  # resolved once for this script run; every page reads this file
navigation: dict[str, list] = {}
for spec in PAGES:
    if auth.page_allowed(spec, user.role):
        navigation.setdefault(spec["section"], []).append(st.Page(
            _PAGES / spec["file"], title=spec["title"], icon=f":material/{spec['icon']}:",
            default=spec.get("default", False)))
page = st.navigation(navigation)

with st.sidebar:
    auth.sidebar(user)
    if access.allowed(user.role, access.QUALITY):  # file paths are the data engineers' business
        st.caption(f"Warehouse (read-only): `{pointer}`")
        st.caption(f"Snapshot: {ui.snapshot_caption(snapshot, pointer) if snapshot else 'none published'}")

if snapshot is None:
    ui.no_warehouse_error(pointer)
elif ui.check_warehouse(snapshot):
    ui.data_as_of_banner(snapshot)
    page.run()
