"""Shared fixtures: real warehouses built by the real pipeline (Dagster + DuckDB + dbt), once per session.

- ``shared_data``: ``../shared/data`` beside the project (``$MIZAN_SHARED_DATA`` overrides), read-only.
- ``real_warehouse``: ``mizan run`` on the real public data.
- ``demo_warehouse``: the seeded synthetic demo data written by the generator, then ``mizan run``.
- ``published_landing``: the small landing folder of tests/pipelines/test_publishing.py (survey waves A and
  B, one budget file) and its warehouse after one ``mizan run``; ``published_copy`` gives a test its own copy
  of both (landing folder and warehouse folder) to go on writing: further runs, approvals, kills.

Under pytest-xdist the workers share these builds (the first worker builds, the others wait on a file
lock and read the same warehouse: tests/shared_builds.py): tests only read them, a test that writes works
on a copy (``published_copy``).
"""

from __future__ import annotations

import os
import shutil
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


@pytest.fixture(scope="session")
def published_landing(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """``{"root", "warehouse", "run_id"}``: the landing folder of ``tests/pipelines/test_publishing.py``'s
    ``landing()`` and a warehouse with one published run on it (``mizan run``), built once per session.

    Read only. The pipeline tests that start from "a landing folder and a warehouse with one published run"
    share this run instead of each making the same one; a test that writes takes ``published_copy``."""
    from pipelines.cli import run_pipeline
    from tests.pipelines.test_publishing import landing

    def build(folder: Path) -> dict:
        root, warehouse = landing(folder / "landing"), folder / "wh" / "mizan.duckdb"
        return {"root": root, "warehouse": warehouse, "run_id": run_pipeline(root, warehouse)["run_id"]}

    return once_per_session(tmp_path_factory, "published_landing", build)


@pytest.fixture()
def published_copy(published_landing: dict, tmp_path: Path) -> tuple[Path, Path]:
    """``(landing folder, warehouse pointer)``: this test's own copy of ``published_landing``. The warehouse
    folder is copied whole (relative pointer symlink, read-only snapshots with their sidecars, journal, lock
    file, archive, logs), as a warehouse folder moved elsewhere; the landing folder beside it."""
    root = tmp_path / "landing"
    shutil.copytree(published_landing["root"], root)
    src = published_landing["warehouse"]
    shutil.copytree(src.parent, tmp_path / "wh", symlinks=True)
    return root, tmp_path / "wh" / src.name
