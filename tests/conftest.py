"""Shared fixtures: real warehouses built by the real pipeline (Dagster + DuckDB + dbt), once per session.

- ``shared_data``: ``../shared/data`` beside the project (``$MIZAN_SHARED_DATA`` overrides), read-only.
- ``real_warehouse``: ``mizan run`` on the real public data.
- ``demo_warehouse``: the seeded synthetic demo data written by the generator, then ``mizan run``.

Under pytest-xdist the workers share these builds (the first worker builds, the others wait on a file
lock and read the same warehouse: tests/shared_builds.py): tests only read them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.shared_builds import once_per_session

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MIZAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real data not found at {SHARED_DATA} (set MIZAN_SHARED_DATA)")
    return SHARED_DATA


def _run_into_temp_warehouse(data_dir: Path, tmp_path_factory: pytest.TempPathFactory, name: str) -> dict:
    """``mizan run`` on ``data_dir`` into a fresh temporary warehouse; the summary with ``warehouse_path``."""
    from pipelines.cli import run_pipeline

    def build(folder: Path) -> dict:
        warehouse = folder / "mizan.duckdb"
        return {**run_pipeline(data_dir, warehouse), "warehouse_path": warehouse}

    return once_per_session(tmp_path_factory, name, build)


@pytest.fixture(scope="session")
def real_run(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The run summary of ``mizan run --data-dir ../shared/data`` into a temporary warehouse."""
    return _run_into_temp_warehouse(shared_data, tmp_path_factory, "real")


@pytest.fixture(scope="session")
def real_warehouse(real_run: dict) -> Path:
    return real_run["warehouse_path"]


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pipelines.demo.generate import generate_demo

    def build(folder: Path) -> Path:
        generate_demo(folder)
        return folder

    return once_per_session(tmp_path_factory, "demo_data", build)


@pytest.fixture(scope="session")
def demo_run(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    return _run_into_temp_warehouse(demo_dir, tmp_path_factory, "demo")


@pytest.fixture(scope="session")
def demo_warehouse(demo_run: dict) -> Path:
    return demo_run["warehouse_path"]
