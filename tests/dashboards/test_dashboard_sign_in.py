"""Sign-in and roles in the dashboard (dashboards/auth.py, dashboards/access.py), with AppTest on scratch
warehouses: what a session that is not signed in sees, each role's pages, refusals by page, by URL and by
query, the rate limit through the form, wave approval from the dashboard, and OpenID Connect sign-in."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboards import access, queries
from pipelines import publish
from pipelines.users import MAX_FAILURES, UserStore
from scratch_warehouses import UNDECIDED, publish_scratch
from signed_in import TEST_USERS, sign_in

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
VIEWS = APP.parent / "views"
TIMEOUT = 120
#: demo_services 2024-01 provisional, the other waves approved
PROVISIONAL = ("demo_services", "2024-01")
COMMITTEE_PAGES = {"Home", "Overview", "Results framework", "Budget execution", "Spending and services"}
ROLE_PAGES = {
    "committee": COMMITTEE_PAGES,
    "me": COMMITTEE_PAGES | {"Indicator explorer", "Wave approval"},
    "engineer": COMMITTEE_PAGES | {"Indicator explorer", "Data quality"},
    "admin": COMMITTEE_PAGES | {"Indicator explorer", "Wave approval", "Data quality", "Users"},
}


@pytest.fixture(scope="module")
def provisional_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A published scratch warehouse with demo_services 2024-01 not approved (read-only use)."""
    pointer = tmp_path_factory.mktemp("provisional_wh") / "mizan.duckdb"
    publish_scratch(pointer, approvals={PROVISIONAL: UNDECIDED})
    return pointer


@pytest.fixture()
def app(monkeypatch: pytest.MonkeyPatch):
    """``app(warehouse, role=None, script=APP)``: an AppTest of ``script`` on ``warehouse``, signed in as
    ``role`` (None: not signed in), run once."""
    def _open(path: Path, role: str | None = None, script: Path = APP) -> AppTest:
        monkeypatch.setattr(sys, "argv", [str(APP)])
        monkeypatch.setenv("MIZAN_WAREHOUSE", str(path))
        at = AppTest.from_file(str(script), default_timeout=TIMEOUT)
        if role:
            sign_in(at, role)
        return at.run()

    return _open


def _pages(at: AppTest) -> set[str]:
    return {info["page_name"] for info in at._registered_pages.values()}


def _text(at: AppTest) -> str:
    parts = []
    for kind in ("markdown", "caption", "title", "subheader", "info", "warning", "error", "success"):
        parts += [str(e.value) for e in getattr(at, kind)]
    for df in at.dataframe:
        parts.append(df.value.to_csv() if hasattr(df.value, "to_csv") else str(df.value))
    return "\n".join(parts)


def _submit_sign_in(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="sign_in_username").input(username)
    at.text_input(key="sign_in_password").input(password)
    return at.button[0].click().run()


# --------------------------------------------------------------------------------------
# not signed in
# --------------------------------------------------------------------------------------
def test_a_session_not_signed_in_sees_only_the_sign_in_form(app, provisional_warehouse: Path) -> None:
    at = app(provisional_warehouse)
    assert not at.exception
    assert [t.value for t in at.title] == ["mizan — sign in"]
    assert {t.label for t in at.text_input} == {"User name", "Password"}
    assert _pages(at) == {"Sign in"}
    assert not at.dataframe and not at.sidebar.caption
    text = _text(at)
    assert "Data as of" not in text and str(provisional_warehouse) not in text
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # no page by its path either
        at.switch_page("views/data_quality.py")


def test_sign_in_with_the_form_and_out_again(app, provisional_warehouse: Path) -> None:
    at = app(provisional_warehouse)
    name, password = TEST_USERS["committee"]
    at = _submit_sign_in(at, name, password)
    assert not at.exception, [e.value for e in at.exception]
    # a committee member reads Arabic first: the role's default language, kept in the URL
    assert [t.value for t in at.title] == ["الصفحة الرئيسية للجنة"]  # the default page
    assert any(f"مسجَّل الدخول باسم **{name}**" in c.value for c in at.sidebar.caption)
    at.button(key="sign_out").click().run()
    at.run()
    assert [t.value for t in at.title] == ["ميزان — تسجيل الدخول"]  # the URL still says ?lang=ar
    assert _pages(at) == {"تسجيل الدخول"}


def test_wrong_password_is_refused(app, provisional_warehouse: Path) -> None:
    at = _submit_sign_in(app(provisional_warehouse), TEST_USERS["me"][0], "not-the-password")
    assert [e.value for e in at.error] == ["wrong user name or password"]
    assert [t.value for t in at.title] == ["mizan — sign in"]
    assert _pages(at) == {"Sign in"}


def test_the_form_locks_a_name_after_five_failures(app, provisional_warehouse: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    store = UserStore(tmp_path / "own.users.sqlite")
    store.add("rana", "committee", "rana-password-1")
    monkeypatch.setenv("MIZAN_USERS", str(store.path))
    at = app(provisional_warehouse)
    for _ in range(MAX_FAILURES - 1):
        at = _submit_sign_in(at, "rana", "guess-guess-guess")
        assert [e.value for e in at.error] == ["wrong user name or password"]
    at = _submit_sign_in(at, "rana", "guess-guess-guess")
    assert "locked until" in at.error[0].value
    at = _submit_sign_in(at, "rana", "rana-password-1")  # the right password, too late
    assert "locked until" in at.error[0].value
    assert _pages(at) == {"Sign in"}
    fresh = app(provisional_warehouse)  # another session (or a restart) finds the lock in the store
    assert "locked until" in _submit_sign_in(fresh, "rana", "rana-password-1").error[0].value


# --------------------------------------------------------------------------------------
# each role's pages
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_each_role_sees_its_pages(app, provisional_warehouse: Path, role: str) -> None:
    at = app(provisional_warehouse, role)
    assert not at.exception, [e.value for e in at.exception]
    assert _pages(at) == ROLE_PAGES[role]
    for info in at._registered_pages.values():
        at.switch_page(str(Path(info["script_path"]).relative_to(APP.parent))).run()
        assert not at.exception, (info["page_name"], [e.value for e in at.exception])
        assert not any(e.value.startswith("Refused") for e in at.error), info["page_name"]


def test_the_committee_overview_has_approved_waves_only(app, provisional_warehouse: Path) -> None:
    at = app(provisional_warehouse, "committee").switch_page("views/overview.py").run()
    assert not at.exception
    assert not at.toggle  # no "Include provisional waves"
    headline = at.dataframe[0].value
    assert set(headline["Approval"]) == {"approved"}
    assert "2024-01" not in _text(at)  # the provisional wave is not even named
    me = app(provisional_warehouse, "me").switch_page("views/overview.py").run()
    assert me.toggle(key="overview_include_provisional").set_value(True).run()
    assert "2024-01" in _text(me)


# --------------------------------------------------------------------------------------
# refused: by page, by URL, by query
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", ["data_quality.py", "indicator_explorer.py", "approvals.py", "users.py"])
def test_a_committee_session_reaching_another_roles_page_is_refused(app, provisional_warehouse: Path,
                                                                    page: str) -> None:
    at = app(provisional_warehouse, "committee")
    with pytest.raises(ValueError, match="Could not find a navigation page"):  # not in its navigation
        at.switch_page(f"views/{page}")
    direct = app(provisional_warehouse, "committee", script=VIEWS / page)  # the page file run on its own
    assert not direct.exception, [e.value for e in direct.exception]
    assert any("is not available to a committee session" in e.value for e in direct.error)
    assert not direct.dataframe and not direct.selectbox


#: An AppTest script: read one query (QUERY_NAME, PARAMS) through the dashboard's cached, role-checked layer.
QUERY_SCRIPT = """
import streamlit as st
from dashboards import data, ui
st.session_state["rows"] = data.load(QUERY_NAME, ui.current_warehouse(), **PARAMS).height
"""


def _query_app(query_name: str, params: dict, role: str) -> AppTest:
    script = f"QUERY_NAME = {query_name!r}\nPARAMS = {params!r}\n" + QUERY_SCRIPT
    return sign_in(AppTest.from_string(script, default_timeout=TIMEOUT), role).run()


@pytest.mark.parametrize(("query_name", "params", "refused"), [
    ("quarantine_sample", {}, "`quarantine_sample` is not available to a committee session"),
    ("quarantine_by_reason", {}, "`quarantine_by_reason` is not available"),
    ("file_registry", {}, "`file_registry` is not available"),
    ("run_log", {"limit": 5}, "`run_log` is not available"),
    ("service_estimates", {"source_id": PROVISIONAL[0], "wave_id": PROVISIONAL[1]},
     "survey wave demo_services / 2024-01 is provisional"),
    ("response_distribution", {"source_id": PROVISIONAL[0], "wave_id": PROVISIONAL[1]}, "is provisional"),
    ("indicator_changes", {"source_id": PROVISIONAL[0], "wave_to": PROVISIONAL[1]}, "is provisional"),
])
def test_a_committee_session_is_refused_by_query(app, monkeypatch: pytest.MonkeyPatch, provisional_warehouse: Path,
                                                 query_name: str, params: dict, refused: str) -> None:
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(provisional_warehouse))
    at = _query_app(query_name, params, "committee")
    assert [e.value for e in at.exception] and refused in at.exception[0].value
    assert "rows" not in at.session_state
    # the same read as a data engineer (or admin) is answered
    ok = _query_app(query_name, params, "engineer")
    assert not ok.exception, [e.value for e in ok.exception]
    assert ok.session_state["rows"] >= 0


def test_query_layer_without_streamlit(provisional_warehouse: Path) -> None:
    snap = publish.current_snapshot(provisional_warehouse)
    with pytest.raises(access.AccessDenied, match="not available to a committee session"):
        access.run_query("committee", "quarantine_sample", snap)
    with pytest.raises(access.AccessDenied, match="not signed in"):
        access.run_query(None, "indicators", snap)
    with pytest.raises(access.AccessDenied, match="is provisional"):
        access.run_query("committee", "service_estimates", snap, source_id="demo_services", wave_id="2024-01")
    with pytest.raises(access.AccessDenied, match="not classified"):
        access.authorize("admin", "some_new_query", {}, set)
    # a list of waves or estimates comes back without the provisional wave for the committee
    for name in ("waves", "service_estimates", "indicator_changes", "headline_summary"):
        every = access.run_query("me", name, snap)
        approved = access.run_query("committee", name, snap)
        assert approved.height < every.height, name
        key = "wave_to" if "wave_to" in every.columns else "wave_id"
        assert "2024-01" in set(every[key]) and "2024-01" not in set(approved[key]), name
    assert access.run_query("engineer", "quarantine_sample", snap).height > 0
    # a committee's headline_summary is the approved-only one even when asked for everything
    assert access.run_query("committee", "headline_summary", snap, approved_only=False).equals(
        queries.headline_summary(snap, approved_only=True))


def test_every_query_is_classified() -> None:
    assert set(queries.QUERIES) == set(access.QUERY_ACCESS)


# --------------------------------------------------------------------------------------
# approval from the dashboard; OpenID Connect
# --------------------------------------------------------------------------------------
def test_an_approval_from_the_dashboard_publishes_and_records_who(app, tmp_path: Path) -> None:
    pointer = tmp_path / "mizan.duckdb"
    publish_scratch(pointer, approvals={PROVISIONAL: UNDECIDED})
    before = publish.current_snapshot(pointer)
    at = app(pointer, "me")
    at.switch_page("views/approvals.py").run()
    assert not at.exception, [e.value for e in at.exception]
    at.selectbox(key="approval_wave").set_value(PROVISIONAL)
    at.text_input(key="approval_note").input("checked against the field reports")
    at.button[0].click().run()  # "Approve"
    assert not at.exception, [e.value for e in at.exception]
    assert any("test-me approved demo_services / 2024-01" in s.value for s in at.success)
    after = publish.current_snapshot(pointer)
    assert after != before
    with duckdb.connect(str(after), read_only=True) as con:
        rows = con.execute(
            "SELECT action, decided_by, decided_at, note FROM audit.wave_approvals "
            "WHERE source_id = ? AND wave_id = ? ORDER BY decided_at", list(PROVISIONAL)).fetchall()
    assert rows[-1][0:2] == ("approve", "test-me") and rows[-1][3] == "checked against the field reports"
    assert rows[-1][2] is not None
    assert pl.DataFrame(access.run_query("committee", "waves", after)).filter(
        (pl.col("source_id") == PROVISIONAL[0]) & (pl.col("wave_id") == PROVISIONAL[1])).height == 1


def test_an_identity_provider_email_signs_in_with_its_role(app, provisional_warehouse: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    store = UserStore(tmp_path / "oidc.users.sqlite")
    store.add("sara", "engineer", None, email="sara@planning.gov.iq")
    monkeypatch.setenv("MIZAN_USERS", str(store.path))
    monkeypatch.setattr(sys, "argv", [str(APP)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(provisional_warehouse))
    auth_secrets = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                    "client_id": "mizan", "client_secret": "s",
                    "server_metadata_url": "https://idp.example.org/.well-known/openid-configuration"}

    known = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    known.secrets["auth"] = auth_secrets
    known.user = {"is_logged_in": True, "email": "Sara@planning.gov.iq"}
    known.run()
    assert not known.exception, [e.value for e in known.exception]
    assert _pages(known) == ROLE_PAGES["engineer"]

    stranger = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    stranger.secrets["auth"] = auth_secrets
    stranger.user = {"is_logged_in": True, "email": "someone@else.org"}
    stranger.run()
    assert _pages(stranger) == {"Sign in"}
    assert any("has no role in mizan" in w.value for w in stranger.warning)


def test_sign_in_logs_never_hold_a_password(app, provisional_warehouse: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    name, password = TEST_USERS["engineer"]
    at = _submit_sign_in(app(provisional_warehouse), password, password)  # the password typed as the name too
    assert at.error
    at = _submit_sign_in(at, name, password)
    assert [t.value for t in at.title] == ["Committee home"]  # the default page
    assert "sign-in refused for an unknown user name" in caplog.text
    assert f"dashboard sign-in: {name}" in caplog.text
    assert password not in caplog.text
