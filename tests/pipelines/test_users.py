"""The dashboard's users store (pipelines/users.py) and `mizan users add|remove|list|unlock`."""

from __future__ import annotations

import datetime as dt
import io
import logging
import sqlite3
import stat
from pathlib import Path

import pytest

from pipelines import users as U
from pipelines.cli import main

PASSWORD = "correct horse battery"


class Clock:
    """A settable UTC clock for the lock tests."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path: Path, clock: Clock) -> U.UserStore:
    s = U.UserStore(tmp_path / "mizan.users.sqlite", clock=clock)
    s.add("layla", "me", PASSWORD, email="Layla@Example.org")
    return s


def test_store_lives_beside_the_pointer_outside_the_snapshots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(U.ENV_VAR, raising=False)
    pointer = tmp_path / "warehouse" / "mizan.duckdb"
    assert U.users_path(pointer) == tmp_path / "warehouse" / "mizan.users.sqlite"
    assert "snapshots" not in str(U.users_path(pointer))
    monkeypatch.setenv(U.ENV_VAR, str(tmp_path / "elsewhere.sqlite"))
    assert U.users_path(pointer) == tmp_path / "elsewhere.sqlite"


def test_password_is_stored_as_an_argon2id_hash_in_a_0600_file(store: U.UserStore) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    with sqlite3.connect(store.path) as con:
        (hashed,) = con.execute("SELECT password_hash FROM users WHERE username = 'layla'").fetchone()
    assert hashed.startswith("$argon2id$v=19$m=")
    assert PASSWORD not in hashed
    assert PASSWORD.encode() not in store.path.read_bytes()
    assert all("hash" not in k for row in store.list() for k in row)  # listing never carries it


def test_right_password_signs_in_and_wrong_one_is_refused(store: U.UserStore) -> None:
    user = store.authenticate("Layla", PASSWORD)  # names are case-insensitive
    assert (user.username, user.role, user.email) == ("layla", "me", "layla@example.org")
    with pytest.raises(U.SignInRefused, match="wrong user name or password") as refused:
        store.authenticate("layla", PASSWORD + "x")
    assert refused.value.locked_until is None
    with pytest.raises(U.SignInRefused, match="wrong user name or password"):  # same words for an unknown name
        store.authenticate("nobody", PASSWORD)


def test_five_failures_lock_the_name_across_restarts_until_the_lock_ends(store: U.UserStore, clock: Clock) -> None:
    for _ in range(U.MAX_FAILURES - 1):
        with pytest.raises(U.SignInRefused, match="wrong"):
            store.authenticate("layla", "not the password")
    with pytest.raises(U.SignInRefused, match="locked until 09:15 UTC") as refused:
        store.authenticate("layla", "not the password")
    assert refused.value.locked_until == clock.now + dt.timedelta(minutes=15)

    restarted = U.UserStore(store.path, clock=clock)  # a new process reads the same file
    clock.now += dt.timedelta(minutes=14)
    with pytest.raises(U.SignInRefused, match="locked"):
        restarted.authenticate("layla", PASSWORD)  # even the right password, while locked
    assert restarted.list()[0]["locked_until"] is not None

    clock.now += dt.timedelta(minutes=2)
    assert restarted.authenticate("layla", PASSWORD).role == "me"
    # a success clears the count: four more failures do not lock
    for _ in range(U.MAX_FAILURES - 1):
        with pytest.raises(U.SignInRefused, match="wrong"):
            restarted.authenticate("layla", "nope nope nope")
    assert restarted.authenticate("layla", PASSWORD).username == "layla"


def test_unknown_names_are_locked_too_and_unlock_clears(store: U.UserStore) -> None:
    for _ in range(U.MAX_FAILURES):
        with pytest.raises(U.SignInRefused):
            store.authenticate("guess", "whatever-password")
    with pytest.raises(U.SignInRefused, match="locked"):
        store.authenticate("guess", "whatever-password")
    for _ in range(U.MAX_FAILURES):
        with pytest.raises(U.SignInRefused):
            store.authenticate("layla", "wrong-password-1")
    store.unlock("layla")
    assert store.authenticate("layla", PASSWORD).username == "layla"


def test_add_refuses_bad_input(store: U.UserStore) -> None:
    with pytest.raises(U.UserError, match="exists"):
        store.add("layla", "admin", "another long password")
    with pytest.raises(U.UserError, match="unknown role"):
        store.add("omar", "minister", "another long password")
    with pytest.raises(U.UserError, match="too short"):
        store.add("omar", "committee", "short")
    with pytest.raises(U.UserError, match="not allowed"):
        store.add("Omar Ali; drop", "committee", "another long password")
    with pytest.raises(U.UserError, match="another user has the e-mail"):
        store.add("omar", "committee", "another long password", email="layla@example.org")
    with pytest.raises(U.UserError, match="needs a password, or an e-mail"):
        store.add("omar", "committee", None)
    store.add("layla", "admin", "another long password", replace=True)
    assert store.get("layla").role == "admin"


def test_identity_provider_email_maps_to_a_role(store: U.UserStore) -> None:
    store.add("sara", "committee", None, email="sara@planning.gov.iq")
    assert store.user_for_email("SARA@planning.gov.iq") == U.User("sara", "committee", "sara@planning.gov.iq")
    assert store.user_for_email("someone@else.org") is None
    assert store.user_for_email(None) is None
    with pytest.raises(U.SignInRefused):  # no password: no password sign-in
        store.authenticate("sara", "")


def test_cli_add_list_remove(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                             caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv(U.ENV_VAR, raising=False)
    warehouse = tmp_path / "mizan.duckdb"
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "--warehouse", str(warehouse), "add", "Omar", "--role", "committee", "--password-stdin"]) == 0
    answers = iter(["typed at the prompt", "typed at the prompt"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert main(["users", "--warehouse", str(warehouse), "add", "nour", "--role", "engineer"]) == 0
    assert main(["users", "--warehouse", str(warehouse), "list"]) == 0
    out = capsys.readouterr()
    assert "omar" in out.out and "committee" in out.out and "nour" in out.out and "engineer" in out.out
    for secret in (PASSWORD, "typed at the prompt"):
        assert secret not in out.out + out.err + caplog.text
    store = U.UserStore.for_warehouse(warehouse)
    assert store.path == tmp_path / "mizan.users.sqlite"
    assert store.authenticate("nour", "typed at the prompt").role == "engineer"

    assert main(["users", "--warehouse", str(warehouse), "remove", "omar"]) == 0
    assert store.get("omar") is None
    assert main(["users", "--warehouse", str(warehouse), "remove", "omar"]) == 1
    assert "no user 'omar'" in capsys.readouterr().err
    answers = iter(["first password!", "second password"])
    assert main(["users", "--warehouse", str(warehouse), "add", "x1", "--role", "me"]) == 1
    assert "differ" in capsys.readouterr().err


def test_demo_users_one_per_role(tmp_path: Path) -> None:
    store = U.UserStore(tmp_path / "u.sqlite")
    lines = U.add_demo_users(store)
    assert "DEMO ONLY" in lines[0]
    assert {r["role"] for r in store.list()} == set(U.ROLES)
    for name, (role, password) in U.DEMO_USERS.items():
        assert store.authenticate(name, password).role == role
        assert any(name in line and password in line for line in lines)
    U.add_demo_users(store)  # again: replaced, not refused
