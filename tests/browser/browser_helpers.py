"""Helpers and fixtures of the browser tests (tests/browser/conftest.py registers the fixtures).

Browser tests: the dashboard served by ``streamlit run`` on the demo warehouse, driven by Playwright in
Debian's Chromium (``/usr/bin/chromium``, installed by ``.ci/run``; never Playwright's own browser download).

- ``dashboard``: the base URL of one server per test session (per xdist worker), on a free port, with a users
  store of one user per role (``TEST_USERS``); stopped at the end.
- ``sign_in(page, role, path="", query="")``: open ``path?query`` and sign in through the real form.
- ``settle(page)``: wait until the script run a click started has finished.
- ``pages_for(role)``: the pages of ``dashboards/pages.py`` a role has.
Screenshots go to ``test-artifacts/screenshots/`` (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboards import auth
from dashboards.pages import PAGES

REPO = Path(__file__).resolve().parents[2]
APP = REPO / "dashboards" / "app.py"
CHROMIUM = os.environ.get("MIZAN_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
sys.path.insert(0, str(REPO / "tests" / "dashboards"))
from signed_in import TEST_USERS  # noqa: E402




def url_path(spec: dict) -> str:
    """The page's URL path ('' for the default page): st.navigation's name from the file."""
    return "" if spec.get("default") else Path(spec["file"]).stem


def pages_for(role: str) -> list[dict]:
    """The pages ``role`` has in its navigation (app.py ``PAGES``, ``auth.page_allowed``)."""
    return [spec for spec in PAGES if auth.page_allowed(spec, role)]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium; MIZAN_CHROMIUM overrides)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": {"width": 1440, "height": 1000}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def dashboard(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory):
    """Base URL of the dashboard on a copy of the demo warehouse with the waves ``mizan demo`` approves
    (national 2024, firm B 2025; national 2025 provisional), as a committee member finds it (``streamlit run``,
    headless)."""
    from pipelines.status import approve_wave
    from pipelines.users import UserStore

    folder = tmp_path_factory.mktemp("browser_dashboard")
    shutil.copytree(demo_warehouse.parent, folder / "wh", symlinks=True)
    demo_warehouse = folder / "wh" / demo_warehouse.name
    for source_id, wave_id in (("mizan_demo_national", "2024"), ("mizan_demo_firm_b", "2025")):
        approve_wave(demo_warehouse, source_id, wave_id, "browser tests")
    users = folder / "mizan.users.sqlite"
    store = UserStore(users)
    for role, (name, password) in TEST_USERS.items():
        store.add(name, role, password)
    port = _free_port()
    env = {**os.environ, "MIZAN_USERS": str(users), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    log = (folder / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
         "--", "--warehouse", str(demo_warehouse)],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:  # not listening yet: try again until the deadline
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"streamlit did not start: {(folder / 'streamlit.log').read_text()[-2000:]}")
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def settle(page, started: float = 1.5) -> None:
    """Wait for the script run a click started (up to ``started`` s to begin) to finish."""
    try:
        page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=started * 1000)
    except Exception:  # noqa: BLE001 - the run was over before we looked
        pass
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=90_000)


def watch_errors(page) -> list[str]:
    """Console errors and uncaught page errors of ``page`` from now on (a list that fills as they come)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    return errors


def sign_in(page, base: str, role: str, path: str = "", query: str = "") -> None:
    """Open ``base/path?query`` and sign in through the form as the test user of ``role``."""
    name, password = TEST_USERS[role]
    page.goto(f"{base}/{path}" + (f"?{query}" if query else ""))
    # by the widgets' keys (Streamlit's st-key-<key> classes): the labels are in the link's language
    page.locator(".st-key-sign_in_username input").fill(name)
    page.locator(".st-key-sign_in_password input").fill(password)
    page.locator('[data-testid="stFormSubmitButton"] button').click()
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=90_000)
    settle(page)


def choose(page, label: str, text: str) -> None:
    """Pick the option containing ``text`` in the select box labelled ``label`` (typing filters it)."""
    box = page.get_by_test_id("stSelectbox").filter(has=page.get_by_role("combobox", name=label, exact=True))
    field = box.get_by_role("combobox")
    field.click()
    field.press("ControlOrMeta+a")
    field.press_sequentially(text[:14], delay=15)
    page.get_by_role("option").filter(has_text=text).first.click()
    settle(page)


def displayed(page) -> dict[str, str]:
    """label -> the text each select box shows in the browser."""
    return {i.get_attribute("aria-label"): i.input_value()
            for i in page.locator('[data-testid="stSelectbox"] input[role="combobox"]').all()}


def go_to(page, base: str, spec: dict) -> None:
    """Click the page ``spec`` (a ``PAGES`` entry) in the sidebar navigation (by its link, whatever the
    language of its title)."""
    page.locator(f'[data-testid="stSidebarNav"] a[href="{base}/{url_path(spec)}"]').first.click()
    settle(page)
