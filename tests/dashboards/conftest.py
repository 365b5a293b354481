"""Fixtures for the dashboard tests: small hand-written warehouses (built by
``scratch_warehouses.py``, which the tests import too).

- ``scratch_warehouse``, ``sparse_warehouse``: *pointer* paths of published scratch layouts
  (symlink -> immutable snapshot + sidecar, journal); every wave approved.
- ``legacy_warehouse``: a plain file from before snapshots and approvals.
- ``scratch_warehouse_copy``: a writable plain-file copy of the scratch snapshot.

The pipeline-built ``demo_warehouse`` / ``real_warehouse`` fixtures come from tests/conftest.py.

Sign-in: every dashboard test reads a users store with one user per role (``users_store``,
``$MIZAN_USERS``); ``sign_in(at, role)`` signs an AppTest session in as that role's user, and
``open_app`` signs in as admin (who sees every page) unless told another role.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest
import streamlit
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from scratch_warehouses import SUPPRESSED_VALUES, build_warehouse, publish_scratch  # noqa: E402

from signed_in import TEST_USERS, sign_in  # noqa: E402

from dashboards import auth  # noqa: E402
from pipelines.users import UserStore  # noqa: E402


@pytest.fixture(scope="session")
def users_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A users store with one user per role (``TEST_USERS``)."""
    path = tmp_path_factory.mktemp("users") / "mizan.users.sqlite"
    store = UserStore(path)
    for role, (name, password) in TEST_USERS.items():
        store.add(name, role, password)
    return path


@pytest.fixture()
def bare_session():
    """``bare_session(role)``: sign in the Streamlit session of a test without a running app
    (``data.load`` called directly); signed out again afterwards."""
    def _sign_in(role: str = "admin") -> None:
        streamlit.session_state[auth.SESSION_KEY] = TEST_USERS[role][0]

    yield _sign_in
    streamlit.session_state.pop(auth.SESSION_KEY, None)


@pytest.fixture(autouse=True)
def _users_env(users_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every dashboard test reads the test users store."""
    monkeypatch.setenv("MIZAN_USERS", str(users_store))


@pytest.fixture(scope="module", autouse=True)
def _no_pipeline_garbage() -> None:
    """Collect the garbage earlier tests of this worker left (in the main thread) before the app runs.

    An in-process Dagster run leaves reference cycles holding sqlite connections of its event storage. When
    Python's cyclic GC frees them in AppTest's script thread, sqlalchemy logs the cross-thread close with a
    traceback, and Python 3.11 formats tracebacks with ``ast.parse``: a collection that starts in the middle
    of Streamlit's ``ast.parse`` of a page then fails the page with "AST constructor recursion depth
    mismatch" (seen once). Which tests share a worker, and in which order, depends on scheduling; collecting
    here, in the main thread, makes it not matter. Shared pipeline builds collect after themselves
    (tests/conftest.py)."""
    gc.collect()


@pytest.fixture(scope="session")
def scratch_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The pointer of a published scratch warehouse with every table the dashboard reads (see
    module docstring); every wave approved."""
    pointer = tmp_path_factory.mktemp("scratch_wh") / "mizan.duckdb"
    publish_scratch(pointer)
    return pointer


@pytest.fixture(scope="session")
def sparse_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """All tables present, but no budget rows, no hoh_sex cells, one wave per source and no
    quarantine / dropped columns / skipped sources (published, every wave approved)."""
    pointer = tmp_path_factory.mktemp("sparse_wh") / "mizan.duckdb"
    publish_scratch(pointer, budget=False, hoh_sex=False, second_wave=False, audit_rows=False)
    return pointer


@pytest.fixture(scope="session")
def fiscal_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scratch warehouse plus the issue-6 marts (``build_warehouse(fiscal=True)``): dim_fiscal_year,
    per capita, a partial budget source, fct_budget_pefa and fct_service_vs_spending with a planted
    suppressed cell (published, every wave approved)."""
    pointer = tmp_path_factory.mktemp("fiscal_wh") / "mizan.duckdb"
    publish_scratch(pointer, fiscal=True)
    return pointer


@pytest.fixture(scope="session")
def legacy_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain warehouse file from before snapshots: no sidecar, no audit.snapshot, no approvals
    (every wave provisional), old run log and file registry, no deliveries."""
    return build_warehouse(tmp_path_factory.mktemp("legacy_wh") / "mizan.duckdb", legacy=True)


@pytest.fixture(scope="session")
def scratch_suppressed_values() -> dict[tuple[str, str, str, str, str], tuple[float, float, float, float]]:
    """The planted suppressed cells of the scratch warehouse: (estimate, SE, CI lower, CI upper)."""
    return dict(SUPPRESSED_VALUES)


@pytest.fixture()
def scratch_warehouse_copy(scratch_warehouse: Path, tmp_path: Path) -> Path:
    """A private, writable plain-file copy of the scratch snapshot that a test may rewrite (a
    plain file at the warehouse path is its own snapshot)."""
    target = tmp_path / "mizan.duckdb"
    target.write_bytes(scratch_warehouse.read_bytes())
    target.chmod(0o644)
    return target


APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


@pytest.fixture()
def open_app(monkeypatch: pytest.MonkeyPatch):
    """``open_app(warehouse, page=None, role="admin", lang="en")``: the dashboard on ``warehouse`` (via
    ``$MIZAN_WAREHOUSE``), signed in as ``role``, run once and switched to ``page``; fails on any
    exception the app raised."""
    def _open(path: Path, page: str | None = None, role: str = "admin", lang: str | None = "en") -> AppTest:
        monkeypatch.setattr(sys, "argv", [str(APP)])
        monkeypatch.setenv("MIZAN_WAREHOUSE", str(path))
        at = sign_in(AppTest.from_file(str(APP), default_timeout=120), role, lang)
        at.run()
        if page is not None:
            at.switch_page(page).run()
        assert not at.exception, [e.value for e in at.exception]
        return at

    return _open


class Download(bytes):
    """The bytes of one download, with the button's ``file_name``."""

    file_name: str = ""


class Downloads(list):
    """Every download the app rendered, in order (``Download`` items)."""

    def named(self, prefix: str) -> list[Download]:
        return [d for d in self if d.file_name.startswith(prefix)]

    @property
    def estimates(self) -> Download:
        """The last estimates (or distribution) CSV of the explorer — not its change CSV, nor an Excel file."""
        found = [d for d in self if not d.file_name.startswith("mizan_change_") and d.file_name.endswith(".csv")]
        assert found, "no estimates CSV offered"
        return found[-1]

    @property
    def changes(self) -> Download:
        """The last change CSV (explorer: change since the previous wave)."""
        found = self.named("mizan_change_")
        assert found, "no change CSV offered"
        return found[-1]


@pytest.fixture()
def downloads(monkeypatch: pytest.MonkeyPatch) -> Downloads:
    """Every ``st.download_button`` the app renders, in order: bytes with ``.file_name``
    (``downloads.estimates``: the last estimates CSV; ``downloads.changes``: the last change CSV)."""
    captured = Downloads()
    original = streamlit.download_button

    def spy(label, data, *args, **kwargs):
        item = Download(bytes(data() if callable(data) else data))
        item.file_name = str(kwargs.get("file_name") or "")
        captured.append(item)
        return original(label, data, *args, **kwargs)

    monkeypatch.setattr(streamlit, "download_button", spy)
    return captured
