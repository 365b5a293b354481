"""Fixtures of the browser tests (defined in browser_helpers.py, which the tests import helpers from)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from browser_helpers import browser_context_args, browser_type_launch_args, dashboard  # noqa: E402,F401
