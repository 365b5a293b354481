"""Users — for admins: who may sign in and with which role (the same store as ``mizan users``).
Passwords are set here or with the CLI and stored only as argon2id hashes; this page never shows one.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from dashboards import access, auth, i18n
from dashboards.i18n import _

from pipelines import users as U

auth.require(access.USERS, _("The users page"))
me = auth.session_user()
store = auth.store()

st.title(_("Users"))
st.caption(_("Roles: {roles}. Command line: `mizan users add NAME --role ROLE`, `mizan users remove "
    "NAME`, `mizan users list`.").format(roles=', '.join(f'{r} ({_(U.ROLE_LABELS[r])})' for r in U.ROLES)))
rows = store.list()
i18n.dataframe(pl.DataFrame(rows, schema={"username": pl.String, "role": pl.String, "email": pl.String,
                                        "created_at": pl.String, "has_password": pl.Boolean,
                                        "locked_until": pl.String}), hide_index=True)

with st.form("add_user", clear_on_submit=True):
    st.subheader(_("Add or change a user"))
    name = st.text_input(_("User name"), key="users_name")
    role = st.selectbox(_("Role"), U.ROLES, format_func=lambda r: _(U.ROLE_LABELS[r]), key="users_role")
    email = st.text_input(_("E-mail (identity-provider sign-in; optional)"), key="users_email")
    password = st.text_input(_("Password (blank: identity provider only)"), type="password", key="users_password")
    replace = st.checkbox(_("Change the user if it exists"), key="users_replace")
    if st.form_submit_button(_("Save user")):
        try:
            user = store.add(name, role, password or None, email or None, replace=replace)
            st.success(_("user {username}: {role_label}").format(username=user.username, role_label=_(user.role_label)))
        except U.UserError as exc:
            st.error(str(exc))

names = [r["username"] for r in rows if r["username"] != me.username]
if names:
    st.subheader(_("Remove or unlock a user"))
    who = st.selectbox(_("User"), names, key="users_remove_name")
    c1, c2 = st.columns(2)
    if c1.button(_("Remove user"), key="users_remove"):
        store.remove(who)
        st.rerun()
    if c2.button(_("Clear failed sign-ins"), key="users_unlock"):
        store.unlock(who)
        st.rerun()
