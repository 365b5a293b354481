"""Test users (one per role) and signing an AppTest session in, for the dashboard tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboards import auth, i18n
from pipelines.users import ROLES

#: role -> (user name, password) of the test users store (tests/dashboards/conftest.py ``users_store``).
TEST_USERS = {role: (f"test-{role}", f"test-{role}-password") for role in ROLES}


def sign_in(at: AppTest, role: str = "admin", lang: str | None = "en") -> AppTest:
    """Sign the AppTest session in as the test user of ``role`` (what the sign-in form does once the
    password was accepted); returns ``at``. The session reads ``lang`` (the tests read English text; a
    committee session would otherwise open in Arabic); None: the role's default."""
    at.session_state[auth.SESSION_KEY] = TEST_USERS[role][0]
    if lang is not None:
        at.session_state[i18n.LANG_KEY] = lang
    return at
