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

import gc
import os
import shutil
from pathlib import Path

import pytest

from tests.shared_builds import once_per_session

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MIZAN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data")).resolve()


#: Tests that take far longer than the rest, with their own cost in seconds on a 2-core machine (shared
#: session builds not counted). Only the order of the run depends on this table: see
#: pytest_collection_modifyitems. A renamed test simply loses its place at the front.
SLOW_TESTS = {
    "tests/pipelines/test_publishing.py::test_sixteen_readers_while_the_pipeline_publishes_five_times": 110,
    "tests/pipelines/test_sensor_and_approval.py::test_the_dagster_sensor_adds_the_wave_partition_and_the_partitioned_run_publishes": 55,
    "tests/pipelines/test_sensor_and_approval.py::test_approval_is_published_follows_the_files_and_status_reports_it": 50,
    "tests/pipelines/test_publishing.py::test_sigkill_in_each_phase_of_a_run_never_breaks_the_published_snapshot": 50,
    "tests/pipelines/test_cleaning_marts.py::test_a_reviewed_log_gives_the_clean_estimates_and_removing_it_the_original": 50,
    "tests/dbt/test_dbt_design.py::test_rules_follow_the_project_vars": 30,
    "tests/pipelines/test_pipeline_real_data.py::test_second_run_on_the_same_files_changes_nothing": 30,
    "tests/pipelines/test_cli_run.py::test_failed_run_leaves_the_last_good_warehouse": 30,
    "tests/pipelines/test_cli_run.py::test_domain_inside_single_psu_strata_is_suppressed_not_fatal": 25,
    "tests/dbt/test_dbt_engine_property.py::test_engine_matches_samplics_and_is_scale_and_order_invariant": 25,
    "tests/pipelines/test_publishing.py::test_dbt_test_failure_publishes_nothing_and_says_why": 20,
    "tests/dbt/test_dbt_project.py::test_dbt_parse_needs_no_database": 10,
}


def pytest_configure(config: pytest.Config) -> None:
    """Bring dbt's manifest up to date once, in the controller, before any xdist worker imports the Dagster
    definitions (which read it): workers never see a manifest another worker is rewriting."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        from pipelines.manifest import ensure_manifest

        ensure_manifest()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist worksteal``, pyproject.toml), start every worker on its share of the
    slow tests.

    worksteal hands worker i the i-th contiguous slice of the collection, and a worker that runs dry takes
    tests from the *end* of another's queue. So the slow tests are dealt out longest first, each to the
    slice with the least slow work so far, and put at the front of their slice; the other tests keep their
    order and fill the slices to equal length. Nothing runs at the end of the session but short tests,
    which idle workers share. Every worker computes the same order (xdist checks that)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers < 2:
        return
    cost = {item.nodeid: SLOW_TESTS.get(item.nodeid.split("[")[0], 0) for item in items}
    slow = sorted((i for i in items if cost[i.nodeid]), key=lambda i: -cost[i.nodeid])
    rest = [i for i in items if not cost[i.nodeid]]
    slices: list[list[pytest.Item]] = [[] for _ in range(workers)]
    for item in slow:
        min(slices, key=lambda sl: sum(cost[i.nodeid] for i in sl)).append(item)
    ordered: list[pytest.Item] = []
    for n, sl in enumerate(slices):
        size = (len(items) - len(ordered)) // (workers - n)  # the slice worksteal hands worker n
        fill = max(0, size - len(sl))
        ordered += sl + rest[:fill]
        rest = rest[fill:]
    items[:] = ordered + rest


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
        summary = {**run_pipeline(data_dir, warehouse), "warehouse_path": warehouse}
        gc.collect()  # the run's garbage, here in the main thread (tests/dashboards/conftest.py says why)
        return summary

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
        built = {"root": root, "warehouse": warehouse, "run_id": run_pipeline(root, warehouse)["run_id"]}
        gc.collect()  # the run's garbage, here in the main thread (tests/dashboards/conftest.py says why)
        return built

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
