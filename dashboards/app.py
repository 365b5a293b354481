"""mizan dashboard — entry point.

    streamlit run dashboards/app.py -- --warehouse PATH
    MIZAN_WAREHOUSE=PATH streamlit run dashboards/app.py
    streamlit run dashboards/app.py            # ./warehouse/mizan.duckdb

The warehouse path is a pointer to the current published snapshot (pipelines/publish.py). Each
script run resolves it once; every page then reads that one immutable snapshot file, read-only, one
short-lived connection per query (dashboards/queries.py), with results cached per snapshot
(dashboards/data.py). Every page starts with "Data as of <publish time> UTC · run <run id>".

Sign-in first (dashboards/auth.py): a session that is not signed in gets the sign-in form and
nothing else. A signed-in session's navigation lists the pages its role may see (``dashboards/pages.py``); what
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

from dashboards import access, auth, i18n, ui  # noqa: E402
from dashboards.i18n import _  # noqa: E402
from dashboards.pages import PAGES  # noqa: E402

# An icon of our own: a page's Material icon would become the favicon, fetched from fonts.gstatic.com
# (a console error offline).
st.set_page_config(page_title="mizan — decentralization survey dashboard · ميزان", page_icon="⚖️", layout="wide")

pointer = str(ui.resolve_warehouse_path())
st.session_state[ui.POINTER_KEY] = pointer  # the users store lives beside the pointer
user = auth.session_user()
lang = i18n.sync_language(signed_in=user is not None)
_PAGES = Path(__file__).resolve().parent / "views"
if user is None:  # nothing but the sign-in form: no pages, no warehouse path, no data
    i18n.apply_direction(lang)
    # The form answers at every page's URL path too, so a shared link (path and query) survives signing in:
    # a page's script hash is its URL path, hence the rerun after sign-in runs the page the link named.
    st.navigation([st.Page(auth.sign_in_page, title=_("Sign in"), icon=":material/login:", default=True)] + [
        st.Page(auth.sign_in_page, title=_("Sign in"), url_path=Path(spec["file"]).stem)
        for spec in PAGES if not spec.get("default")], position="hidden").run()
    st.stop()

snapshot = ui.use_snapshot(pointer)  # resolved once for this script run; every page reads this file
navigation: dict[str, list] = {}
for spec in PAGES:
    if auth.page_allowed(spec, user.role):
        navigation.setdefault(_(spec["section"]), []).append(st.Page(
            _PAGES / spec["file"], title=_(spec["title"]), icon=f":material/{spec['icon']}:",
            url_path=Path(spec["file"]).stem,
            default=spec.get("default", False)))
page = st.navigation(navigation)

with st.sidebar:  # the direction's markup here: a page's own elements start at the top of the main area
    i18n.apply_direction(lang)
    i18n.language_switch()
    auth.sidebar(user)
    if access.allowed(user.role, access.QUALITY):  # file paths are the data engineers' business
        st.caption(_("Warehouse (read-only): `{path}`").format(path=pointer))
        st.caption(_("Snapshot: {snapshot}").format(
            snapshot=ui.snapshot_caption(snapshot, pointer) if snapshot else _("none published")))

if snapshot is None:
    ui.no_warehouse_error(pointer)
elif ui.check_warehouse(snapshot, schema=not next(
        (s.get("any_schema", False) for s in PAGES if Path(s["file"]).stem == page.url_path), False)):
    ui.data_as_of_banner(snapshot)
    page.run()
