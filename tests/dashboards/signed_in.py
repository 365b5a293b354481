"""Test users (one per role) and signing an AppTest session in, for the dashboard tests."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from dashboards import auth
from pipelines.users import ROLES

#: role -> (user name, password) of the test users store (tests/dashboards/conftest.py ``users_store``).
TEST_USERS = {role: (f"test-{role}", f"test-{role}-password") for role in ROLES}


def sign_in(at: AppTest, role: str = "admin") -> AppTest:
    """Sign the AppTest session in as the test user of ``role`` (what the sign-in form does once the
    password was accepted); returns ``at``."""
    at.session_state[auth.SESSION_KEY] = TEST_USERS[role][0]
    return at
