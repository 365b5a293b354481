"""Expensive test inputs built once per test session, pytest-xdist workers included.

Under xdist every worker is its own process with its own session fixtures: a session fixture alone would
build the same warehouse once per worker. :func:`once_per_session` builds it once for all of them: the
first caller builds under a file lock, the others wait on the lock and read the pickled result.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path
from typing import Callable

import pytest
from filelock import FileLock


def once_per_session(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]):
    """``build(folder)`` once for the whole test session, xdist workers included: its result is pickled
    beside the folder and read back by every later caller (so it must pickle with plain types or
    classes of importable modules)."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the workers' common parent
    folder, result = shared / f"shared_{name}", shared / f"shared_{name}.pickle"
    with FileLock(str(shared / f"shared_{name}.lock")):
        if result.exists():
            return pickle.loads(result.read_bytes())
        folder.mkdir(parents=True, exist_ok=True)
        value = build(folder)
        result.write_bytes(pickle.dumps(value))
        return value
