"""Dashboard users, their roles and sign-in attempts (``mizan users add|remove|list``).

The store is a SQLite file beside the warehouse pointer, ``<stem>.users.sqlite`` (e.g.
``warehouse/mizan.users.sqlite``), or ``$MIZAN_USERS``. It is never inside a snapshot folder, so
no published snapshot (and nothing the dashboard's query layer reads) contains it. It is created
with mode 0600. SQLite rather than DuckDB: every dashboard session writes to it (failed sign-ins)
while ``mizan users`` may write from another process, and SQLite waits for a lock (``busy_timeout``)
where DuckDB refuses a second writing process.

Tables:

- ``users``: username (lower case), role (``ROLES``), password_hash (argon2id, PHC string
  ``$argon2id$v=19$m=…``; NULL for a user who signs in only through the identity provider),
  email (lower case, NULL allowed; matched against an OpenID Connect identity), created_at (UTC).
- ``sign_in_failures``: per username (also unknown ones, so a guess cannot tell users apart):
  consecutive failures and ``locked_until`` (UTC). ``MAX_FAILURES`` failures in a row lock the
  name for ``LOCK_MINUTES``; a success clears the count. Persisted, so a restart resets nothing.

Passwords are hashed with argon2-cffi's ``PasswordHasher`` (its defaults, RFC 9106's second
recommended profile) and never stored, printed or logged in clear.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

#: Roles, from the least to the most access (see dashboards/access.py for what each may read).
ROLES = ("committee", "me", "engineer", "admin")
ROLE_LABELS = {"committee": "Steering committee", "me": "M&E", "engineer": "Data engineer", "admin": "Admin"}
ENV_VAR = "MIZAN_USERS"
MAX_FAILURES = 5
LOCK_MINUTES = 15
MIN_PASSWORD_LENGTH = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@+-]{1,63}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_HASHER = PasswordHasher()
# Verified against when the user is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('committee', 'me', 'engineer', 'admin')),
    password_hash TEXT,
    email TEXT UNIQUE,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sign_in_failures (
    username TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT
);
"""


class UserError(ValueError):
    """A users command that cannot be done (bad name, role, password; unknown or existing user)."""


class SignInRefused(Exception):
    """Sign-in refused. ``locked_until`` (UTC) is set when the name is locked after too many failures;
    otherwise the name or password was wrong (the message does not say which)."""

    def __init__(self, message: str, locked_until: dt.datetime | None = None) -> None:
        super().__init__(message)
        self.locked_until = locked_until


@dataclass(frozen=True)
class User:
    """A signed-in (or listed) user: never carries the password or its hash."""

    username: str
    role: str
    email: str | None = None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def users_path(warehouse: str | os.PathLike[str]) -> Path:
    """The users store of the warehouse pointer ``warehouse``: ``$MIZAN_USERS`` when set, else
    ``<pointer folder>/<stem>.users.sqlite``."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser().absolute()
    pointer = Path(os.path.abspath(Path(warehouse).expanduser()))
    return pointer.parent / f"{pointer.stem}.users.sqlite"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _norm_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise UserError(
            f"user name {username!r} is not allowed: 2-64 characters, lower-case letters, digits and . _ @ + -, "
            "starting with a letter or digit"
        )
    return name


class UserStore:
    """The users store at ``path`` (see the module docstring). ``clock`` gives the current UTC time
    (tests pass their own to step past a lock)."""

    def __init__(self, path: str | os.PathLike[str], clock: Callable[[], dt.datetime] = _utcnow) -> None:
        self.path = Path(path)
        self.clock = clock

    @classmethod
    def for_warehouse(cls, warehouse: str | os.PathLike[str]) -> "UserStore":
        return cls(users_path(warehouse))

    @contextmanager
    def _connect(self, write: bool = True) -> Iterator[sqlite3.Connection]:
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        os.chmod(self.path, 0o600)  # also for a file copied in with wider permissions
        with closing(sqlite3.connect(self.path, timeout=10.0, isolation_level=None)) as con:
            con.execute("PRAGMA busy_timeout = 10000")
            con.executescript(_SCHEMA)
            con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            try:
                yield con
            except BaseException:
                con.execute("ROLLBACK")
                raise
            con.execute("COMMIT")

    # ---------------------------------------------------------------- users
    def add(self, username: str, role: str, password: str | None, email: str | None = None,
            replace: bool = False) -> User:
        """Add a user (or, with ``replace``, change an existing one's role, password and e-mail).

        ``password`` None makes a user who can sign in only through the identity provider (needs
        ``email``). Raises UserError for a bad name, role, e-mail or short password, an existing
        user without ``replace``, or an e-mail another user has."""
        name = _norm_username(username)
        if role not in ROLES:
            raise UserError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        mail = (email or "").strip().lower() or None
        if mail is not None and not EMAIL_RE.match(mail):
            raise UserError(f"{email!r} is not an e-mail address")
        if password is None and mail is None:
            raise UserError("a user needs a password, or an e-mail to sign in through the identity provider")
        if password is not None and len(password) < MIN_PASSWORD_LENGTH:
            raise UserError(f"the password is too short: at least {MIN_PASSWORD_LENGTH} characters")
        hashed = None if password is None else _HASHER.hash(password)
        with self._connect() as con:
            exists = con.execute("SELECT 1 FROM users WHERE username = ?", [name]).fetchone()
            if exists and not replace:
                raise UserError(f"user {name!r} exists; pass --replace to change it")
            if mail and con.execute("SELECT 1 FROM users WHERE email = ? AND username <> ?", [mail, name]).fetchone():
                raise UserError(f"another user has the e-mail {mail}")
            con.execute(
                "INSERT OR REPLACE INTO users VALUES (?, ?, ?, ?, ?)",
                [name, role, hashed, mail, self.clock().isoformat()],
            )
            con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])
        return User(name, role, mail)

    def remove(self, username: str) -> None:
        """Remove a user. Raises UserError when there is no such user."""
        name = _norm_username(username)
        with self._connect() as con:
            if con.execute("DELETE FROM users WHERE username = ?", [name]).rowcount == 0:
                raise UserError(f"no user {name!r}")
            con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])

    def list(self) -> list[dict]:
        """Every user: username, role, email, created_at, has_password, locked_until (UTC ISO or
        None) — never the hash."""
        with self._connect(write=False) as con:
            rows = con.execute(
                "SELECT u.username, u.role, u.email, u.created_at, u.password_hash IS NOT NULL, f.locked_until "
                "FROM users u LEFT JOIN sign_in_failures f USING (username) ORDER BY u.username"
            ).fetchall()
        now = self.clock()
        return [
            {"username": u, "role": r, "email": e, "created_at": c, "has_password": bool(p),
             "locked_until": lk if lk and dt.datetime.fromisoformat(lk) > now else None}
            for u, r, e, c, p, lk in rows
        ]

    def user_for_email(self, email: str | None) -> User | None:
        """The user whose e-mail is ``email`` (case-insensitive), or None: how an identity from the
        OpenID Connect provider gets its role."""
        mail = (email or "").strip().lower()
        if not mail:
            return None
        with self._connect(write=False) as con:
            row = con.execute("SELECT username, role, email FROM users WHERE email = ?", [mail]).fetchone()
        return None if row is None else User(*row)

    def get(self, username: str) -> User | None:
        """The user named ``username`` as the store has it now, or None."""
        try:
            name = _norm_username(username)
        except UserError:
            return None
        with self._connect(write=False) as con:
            row = con.execute("SELECT username, role, email FROM users WHERE username = ?", [name]).fetchone()
        return None if row is None else User(*row)

    # ---------------------------------------------------------------- sign-in
    def authenticate(self, username: str, password: str) -> User:
        """The user, when ``password`` is theirs and the name is not locked.

        Raises SignInRefused: wrong name or password (the same message for both), or the name is
        locked (``locked_until`` set) after ``MAX_FAILURES`` failures in a row — then even the right
        password is refused until the lock ends. Every failure is counted, for unknown names too."""
        try:
            name = _norm_username(username)
        except UserError:
            raise SignInRefused("wrong user name or password") from None
        now = self.clock()
        with self._connect() as con:
            failed = con.execute(
                "SELECT failures, locked_until FROM sign_in_failures WHERE username = ?", [name]).fetchone()
            if failed and failed[1]:
                until = dt.datetime.fromisoformat(failed[1])
                if until > now:
                    raise SignInRefused(_locked_message(until), locked_until=until)
                con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])  # lock over: count afresh
                failed = None
            row = con.execute("SELECT role, password_hash, email FROM users WHERE username = ?", [name]).fetchone()
            stored = row[1] if row and row[1] else _DUMMY_HASH
            try:
                _HASHER.verify(stored, password)
                ok = row is not None and row[1] is not None
            except (VerificationError, InvalidHashError):
                ok = False
            if ok:
                con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])
                if _HASHER.check_needs_rehash(stored):
                    con.execute("UPDATE users SET password_hash = ? WHERE username = ?", [_HASHER.hash(password), name])
                return User(name, row[0], row[2])
            # failures of names nobody has are forgotten after a day, so guessed names do not pile up
            con.execute(
                "DELETE FROM sign_in_failures WHERE last_failure_at < ? AND (locked_until IS NULL OR locked_until < ?) "
                "AND username NOT IN (SELECT username FROM users)",
                [(now - dt.timedelta(days=1)).isoformat(), now.isoformat()])
            failures = (failed[0] if failed else 0) + 1
            until = now + dt.timedelta(minutes=LOCK_MINUTES) if failures >= MAX_FAILURES else None
            con.execute(
                "INSERT OR REPLACE INTO sign_in_failures VALUES (?, ?, ?, ?)",
                [name, failures, now.isoformat(), until.isoformat() if until else None],
            )
        if until is not None:
            raise SignInRefused(_locked_message(until), locked_until=until)
        raise SignInRefused("wrong user name or password")

    def unlock(self, username: str) -> None:
        """Clear a name's failed sign-ins (an admin's action)."""
        name = _norm_username(username)
        with self._connect() as con:
            con.execute("DELETE FROM sign_in_failures WHERE username = ?", [name])


def _locked_message(until: dt.datetime) -> str:
    return (f"too many failed sign-ins: this user name is locked until {until:%H:%M} UTC; try again then, "
            "or ask an admin to unlock it")


# -------------------------------------------------------------------- demo users
#: Demo accounts `mizan demo` creates, one per role. DEMO ONLY: the passwords are printed and written
#: here, so they protect nothing; a deployment removes them (`mizan users remove demo-...`).
DEMO_USERS = {
    "demo-committee": ("committee", "demo-committee-pass"),
    "demo-me": ("me", "demo-me-pass-2026"),
    "demo-engineer": ("engineer", "demo-engineer-pass"),
    "demo-admin": ("admin", "demo-admin-pass-2026"),
}


def add_demo_users(store: UserStore) -> list[str]:
    """Create (or reset) the ``DEMO_USERS`` in ``store``; return the lines that tell how to sign in."""
    lines = [f"demo sign-in (DEMO ONLY: these passwords are public; users store {store.path}):"]
    for name, (role, password) in DEMO_USERS.items():
        store.add(name, role, password, replace=True)
        lines.append(f"  {ROLE_LABELS[role]:<18} user {name:<15} password {password}")
    return lines


# -------------------------------------------------------------------- `mizan users`
def add_parser(sub, wh_help: str) -> None:
    """Register ``mizan users add|remove|list|unlock`` on the CLI's subparsers ``sub``."""
    p = sub.add_parser("users", help="dashboard users and roles: add, remove, list, unlock",
                       description=f"Users of the dashboard and their roles ({', '.join(ROLES)}). The store is "
                                   "<warehouse folder>/<stem>.users.sqlite (mode 0600), or $MIZAN_USERS.")
    p.add_argument("--warehouse", type=Path, help=wh_help)
    users_sub = p.add_subparsers(dest="users_command", required=True)
    p_add = users_sub.add_parser("add", help="add a user (asks for the password)")
    p_add.add_argument("username")
    p_add.add_argument("--role", required=True, choices=ROLES)
    p_add.add_argument("--email", help="e-mail of the identity-provider account that signs in as this user")
    pw = p_add.add_mutually_exclusive_group()
    pw.add_argument("--password-stdin", action="store_true", help="read the password from standard input (scripts)")
    pw.add_argument("--no-password", action="store_true", help="sign in only through the identity provider (needs --email)")
    p_add.add_argument("--replace", action="store_true", help="change an existing user's role, password and e-mail")
    p_rm = users_sub.add_parser("remove", help="remove a user")
    p_rm.add_argument("username")
    users_sub.add_parser("list", help="list users and roles (never passwords)")
    p_unlock = users_sub.add_parser("unlock", help="clear a user name's failed sign-ins")
    p_unlock.add_argument("username")


def _read_password(args) -> str | None:
    import getpass
    import sys

    if args.no_password:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise UserError("the two passwords differ")
    return first


def main(args, warehouse: Path) -> int:
    """``mizan users …``: 0 when done; 1 with a message on standard error."""
    import sys

    store = UserStore.for_warehouse(warehouse)
    try:
        if args.users_command == "add":
            user = store.add(args.username, args.role, _read_password(args), args.email, replace=args.replace)
            print(f"user {user.username}: {ROLE_LABELS[user.role]} ({store.path})")
        elif args.users_command == "remove":
            store.remove(args.username)
            print(f"user {args.username.strip().lower()} removed")
        elif args.users_command == "unlock":
            store.unlock(args.username)
            print(f"user {args.username.strip().lower()}: failed sign-ins cleared")
        else:
            rows = store.list()
            if not rows:
                print(f"no users in {store.path}: add one with `mizan users add NAME --role ROLE`")
            for r in rows:
                extra = [r["email"] or "", "" if r["has_password"] else "identity provider only",
                         f"locked until {r['locked_until'][:16]} UTC" if r["locked_until"] else ""]
                print("  ".join([f"{r['username']:<24}", f"{r['role']:<10}", *[e for e in extra if e]]))
    except UserError as exc:
        print(f"mizan: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"mizan: cannot use the users store {store.path}: {exc}", file=sys.stderr)
        return 1
    return 0
