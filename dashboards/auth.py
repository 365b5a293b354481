"""Sign-in for the dashboard: the session's user and role, the sign-in form, sign-out.

A session is signed in when ``st.session_state[SESSION_KEY]`` holds a user name (set only here,
after ``UserStore.authenticate`` accepted the password, or after an OpenID Connect sign-in whose
e-mail a user of the store has). Every script run re-reads that user from the store
(``pipelines/users.py``), so a removed user or a changed role takes effect on the next click.
What a role may read is decided in ``dashboards/access.py`` (enforced in ``data.load``).

OpenID Connect: when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit's
``st.login``; see docs/security.md), the form also offers "Sign in with the identity provider";
the identity's e-mail (``st.user.email``) must belong to a user of the store, whose role it gets.
"""

from __future__ import annotations

import logging
from typing import Any

import streamlit as st

from dashboards import access, i18n
from dashboards.i18n import _
from pipelines import users as U

SESSION_KEY = "mizan_signed_in_user"
log = logging.getLogger("mizan.dashboard.auth")


def store() -> U.UserStore:
    """The users store of this dashboard's warehouse (``$MIZAN_USERS`` or beside the pointer)."""
    from dashboards import ui  # ui imports data, which imports this module

    return U.UserStore.for_warehouse(ui.current_pointer())


def oidc_configured() -> bool:
    """True when secrets.toml has an ``[auth]`` section for ``st.login``."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all (FileNotFoundError / StreamlitSecretNotFoundError)
        return False


def _oidc_user() -> U.User | None:
    if not oidc_configured():
        return None
    try:
        if not st.user.is_logged_in:
            return None
        email = st.user.get("email")
    except Exception:
        return None
    return store().user_for_email(str(email) if email else None)


def session_user() -> U.User | None:
    """The signed-in user of this session, as the store has it now; None when not signed in (or the
    user was removed). Streamlit session only."""
    try:
        name = st.session_state.get(SESSION_KEY)
    except Exception:  # no Streamlit session at all
        return None
    user = store().get(name) if name else None
    if user is None:
        user = _oidc_user()
        if user is not None:
            st.session_state[SESSION_KEY] = user.username
    if user is None and name:
        st.session_state.pop(SESSION_KEY, None)
    return user


def session_role() -> str | None:
    """The role of the signed-in user, or None when the session is not signed in."""
    user = session_user()
    return None if user is None else user.role


def can(permission: str) -> bool:
    """Whether the signed-in session has ``permission`` (``access.PUBLISHED``, ``QUALITY``, …)."""
    return access.allowed(session_role(), permission)


def require(permission: str, what: str) -> None:
    """For a page: an error and the page stops unless the session has ``permission`` (pages a role
    may not see are not in its navigation either, see app.py)."""
    try:
        access.require(session_role(), permission, what)
    except access.AccessDenied as exc:
        st.error(_("{reason}. Sign in with a role that may see it.").format(reason=exc),
                 icon=":material/lock:")
        st.stop()


def sign_in(username: str, password: str) -> U.User:
    """Check the password (rate-limited, see ``UserStore.authenticate``) and sign this session in.
    Raises ``pipelines.users.SignInRefused``."""
    users = store()
    try:
        user = users.authenticate(username, password)
    except U.SignInRefused as exc:
        # the name only when it is a user's: people type their password into the name field too
        known = users.get(username)
        log.warning("dashboard sign-in refused for %s%s", known.username if known else "an unknown user name",
                    " (locked)" if exc.locked_until else "")
        raise
    st.session_state[SESSION_KEY] = user.username
    log.info("dashboard sign-in: %s (%s)", user.username, user.role)
    return user


def sign_out() -> None:
    st.session_state.pop(SESSION_KEY, None)
    if oidc_configured():
        try:
            if st.user.is_logged_in:
                st.logout()
        except Exception:
            pass


def sign_in_page() -> None:
    """The only thing an unsigned session sees: the sign-in form (and the identity-provider button
    when configured). No warehouse path, no data."""
    i18n.language_switch()
    st.title(_("mizan — sign in"))
    st.caption(_("Decentralization survey and budget dashboard. Sign in to continue."))
    with st.form("sign_in", clear_on_submit=False):
        username = st.text_input(_("User name"), key="sign_in_username", autocomplete="username")
        password = st.text_input(_("Password"), type="password", key="sign_in_password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(_("Sign in"), type="primary")
    if submitted:
        try:
            sign_in(username, password)
        except U.SignInRefused as exc:
            st.error(_(str(exc)), icon=":material/lock:")
        else:
            st.rerun()
    if oidc_configured():
        st.divider()
        if st.button(_("Sign in with the identity provider")):
            st.login()
        try:
            email = st.user.get("email") if st.user.is_logged_in else None
        except Exception:
            email = None
        if email:
            st.warning(_("The identity `{email}` has no role in mizan: ask an admin to add it "
                         "(`mizan users add NAME --role ROLE --email ADDRESS --no-password`).").format(email=email))
    st.caption(_("Accounts are managed with `mizan users add|remove|list`; `mizan demo` prints demo accounts."))


def sidebar(user: U.User) -> None:
    """'Signed in as …' and the sign-out button."""
    st.caption(_("Signed in as **{user}** · {role}").format(user=user.username, role=_(user.role_label)))
    if st.button(_("Sign out"), key="sign_out", icon=":material/logout:"):
        sign_out()
        st.rerun()


def page_allowed(spec: dict[str, Any], role: str | None) -> bool:
    """Whether the page ``spec`` (dashboards/pages.py PAGES: its ``needs`` permission) is in ``role``'s navigation."""
    return access.allowed(role, spec["needs"])
