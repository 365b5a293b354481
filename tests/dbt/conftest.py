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
    """Raw tables from raw_fixtures.build_test_warehouse, then `dbt build` (seeds, models, data and unit tests)."""
    work = tmp_path_factory.mktemp("dbt_build")
    path = work / "mizan_dbt_test.duckdb"
    surveys = raw_fixtures.build_test_warehouse(path)
    result = raw_fixtures.run_dbt(["build"], path, work)
    if result.returncode != 0:
        pytest.fail(f"dbt build failed (exit {result.returncode}):\n{result.output[-8000:]}")
    return BuiltWarehouse(path, work, surveys, result.output)
