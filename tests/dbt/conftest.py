"""Shared fixtures for the dbt tests: one warehouse built with the real dbt project per session."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # `import raw_fixtures` under any import mode

import raw_fixtures  # noqa: E402
from tests.shared_builds import once_per_session  # noqa: E402


@dataclass
class BuiltWarehouse:
    path: Path
    work_dir: Path
    surveys: dict[str, raw_fixtures.Survey]
    build_output: str

    def query(self, sql: str, params: list | None = None) -> pd.DataFrame:
        con = duckdb.connect(str(self.path), read_only=True)
        try:
            return con.execute(sql, params or []).df()
        finally:
            con.close()

    @property
    def compiled_dir(self) -> Path:
        return self.work_dir / "target" / "compiled" / "mizan" / "models"


@pytest.fixture(scope="session")
def dbt_warehouse(tmp_path_factory: pytest.TempPathFactory) -> BuiltWarehouse:
    """Raw tables from raw_fixtures.build_test_warehouse, then `dbt build` (seeds, models, data and unit tests);
    built once for all xdist workers (tests only read it)."""

    def build(work: Path) -> dict:
        path = work / "mizan_dbt_test.duckdb"
        surveys = raw_fixtures.build_test_warehouse(path)
        result = raw_fixtures.run_dbt(["build"], path, work)
        return {"path": path, "work_dir": work, "surveys": surveys, "returncode": result.returncode,
                "build_output": result.output}

    built = once_per_session(tmp_path_factory, "dbt_warehouse", build)
    if built["returncode"] != 0:
        pytest.fail(f"dbt build failed (exit {built['returncode']}):\n{built['build_output'][-8000:]}")
    return BuiltWarehouse(built["path"], built["work_dir"], built["surveys"], built["build_output"])
