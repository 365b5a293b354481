"""Wave approval — for the M&E lead: approve a survey wave for the steering committee's pages, or
revoke an approval. The same code path as ``mizan approve`` (``pipelines.status.approve_wave``): the
decision is written to ``audit.wave_approvals`` with the signed-in user as ``decided_by`` and the time
(UTC), and published as a new snapshot; every page then reads that snapshot.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import access, auth, data, i18n, ui
from dashboards import tables as T
from dashboards.i18n import _
from pipelines import publish
from pipelines.status import ApprovalError, approve_wave

auth.require(access.APPROVE, _("Wave approval"))
user = auth.session_user()
path = ui.current_warehouse()

DONE_KEY = "approval_done"

st.title(_("Wave approval"))
if DONE_KEY in st.session_state:
    st.success(st.session_state.pop(DONE_KEY), icon=":material/task_alt:")
st.caption(
    _("A survey wave is provisional until the M&E lead approves it; the steering committee sees approved waves only. "
    "An approval lapses when it is revoked or the wave's files change. Each decision is recorded with who made it "
    "and when, and published as a new snapshot.")
)
waves = ui.load("waves", path)
if waves.is_empty():
    st.info(_("This warehouse has no survey waves."))
    st.stop()

table = waves.select(
    pl.col("source_id").alias("Source"), pl.col("wave_id").alias("Wave"),
    pl.struct("approval_status", "is_approved").map_elements(
        lambda r: T.approval_label(r["approval_status"], r["is_approved"]), return_dtype=pl.String).alias("Approval"),
    pl.col("approval_action").alias("Last decision"), pl.col("approval_by").alias("By"),
    pl.col("approval_at").alias("At (UTC)"), pl.col("approval_note").alias("Note"),
)
i18n.dataframe(table, hide_index=True)

approved = {(s, w) for s, w, a in waves.select("source_id", "wave_id", "is_approved").iter_rows() if a}
# provisional waves first: they are what awaits a decision
pairs = sorted(((s, w) for s, w in waves.select("source_id", "wave_id").iter_rows()), key=lambda p: p in approved)
with st.form("approval"):
    choice = st.selectbox(_("Wave"), pairs, format_func=lambda p: f"{p[0]} / {p[1]}"
                          + (_(" (approved)") if p in approved else _(" (provisional)")), key="approval_wave")
    note = st.text_input(_("Note (kept with the decision)"), key="approval_note")
    col1, col2 = st.columns(2)
    do_approve = col1.form_submit_button(_("Approve"), type="primary")
    do_revoke = col2.form_submit_button(_("Revoke approval"))

if do_approve or do_revoke:
    source_id, wave_id = choice
    try:
        meta = approve_wave(ui.current_pointer(), source_id, wave_id, decided_by=user.username,
                            note=note or None, revoke=bool(do_revoke), lock_timeout_s=30.0)
    except (ApprovalError, publish.WriterBusy, publish.WarehouseDamaged, OSError) as exc:
        st.error(_("Not recorded: {error}").format(error=exc), icon=":material/error:")
    else:
        data.clear()
        st.session_state[DONE_KEY] = _("{message} — published as a new snapshot.").format(
            message=meta["record"]["message"])
        st.rerun()  # app.py resolves the pointer again: the page shows the new snapshot
