"""Waves drive the work: a run reads only the waves whose files changed, dbt estimates only those waves,
and building the waves one run at a time gives the same marts as building them together."""

from __future__ import annotations

import math
import re
import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import run_pipeline
from pipelines.demo.generate import MIN_HOUSEHOLDS_PER_WAVE, generate_demo

NATIONAL = Path("surveys") / "mizan_demo_national"
LATER_WAVE = "export_wave_2025.csv"


def _key(row: tuple) -> str:
    """Sort key of a row without its floats (they may differ in the last bit between builds)."""
    return repr(tuple(v for v in row if not isinstance(v, float)))


def _unsalted(value):
    """A redaction marker without its hash: the hash is keyed by each warehouse's own secret."""
    return re.sub(r"(<redacted \w+) #[0-9a-f]+>", r"\1>", value) if isinstance(value, str) else value


def _close(a: tuple, b: tuple) -> bool:
    """Rows equal, floats to 1e-12 relative (both NaN counts as equal)."""
    def same(x, y) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15)
        return _unsalted(x) == _unsalted(y)
    return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))


def _tables(path: Path) -> dict[str, list[tuple]]:
    """Every marts table's rows, sorted on their non-float values, as Python values."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' AND table_type = 'BASE TABLE'"
        ).fetchall()]
        return {t: sorted(con.execute(f"SELECT * FROM marts.{t}").fetchall(), key=_key) for t in names}
    finally:
        con.close()


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """(one wave then the next, both at once, the run summaries of the second wave's run)."""
    root = tmp_path_factory.mktemp("waves")
    data = root / "data"
    generate_demo(data, households_per_wave=MIN_HOUSEHOLDS_PER_WAVE)
    held = root / LATER_WAVE
    shutil.move(data / NATIONAL / LATER_WAVE, held)
    stepwise = root / "stepwise" / "mizan.duckdb"
    run_pipeline(data, stepwise)
    first = _tables(stepwise)
    shutil.move(held, data / NATIONAL / LATER_WAVE)
    second = run_pipeline(data, stepwise)
    together = root / "together" / "mizan.duckdb"
    run_pipeline(data, together)
    return {"first": first, "stepwise": stepwise, "together": together, "second": second}


def test_waves_one_by_one_equal_one_full_build(builds):
    stepwise, together = _tables(builds["stepwise"]), _tables(builds["together"])
    assert stepwise.keys() == together.keys()
    assert "fct_service_indicators" in stepwise
    for table in stepwise:
        # equal up to the last bit of a float: a sum over a wave's respondents can run in another order when
        # the tables it joins hold one wave instead of two
        assert len(stepwise[table]) == len(together[table]), table
        for a, b in zip(stepwise[table], together[table]):
            assert _close(a, b), f"marts.{table} differs: {a} vs {b}"


def test_the_new_wave_run_reads_only_the_new_file(builds):
    read = {(f["source_id"], f["file_name"]) for f in builds["second"]["files"]}
    assert ("mizan_demo_national", LATER_WAVE) in read
    assert ("mizan_demo_national", "export_wave_2024.csv") not in read
    kept = {(w["source_id"], w["wave_id"]) for w in builds["second"]["waves_kept"]}
    assert ("mizan_demo_national", "2024") in kept


def test_cells_of_earlier_waves_are_unchanged_by_a_new_wave(builds):
    for table in ("fct_service_indicators", "fct_response_distribution"):
        before = [r for r in builds["first"][table] if r[2] == "2024"]
        after = [r for r in _tables(builds["stepwise"])[table] if r[2] == "2024"]
        assert before and before == after, table  # bit for bit: the 2024 rows were not recomputed


def test_the_new_wave_is_estimated_by_the_incremental_build(builds):
    con = duckdb.connect(str(builds["stepwise"]), read_only=True)
    try:
        loads = dict(con.execute(
            "SELECT wave_id, load_run_id FROM raw.survey_wave_loads WHERE source_id = 'mizan_demo_national'"
        ).fetchall())
        waves = {w for (w,) in con.execute(
            "SELECT DISTINCT wave_id FROM marts.fct_service_indicators WHERE source_id = 'mizan_demo_national'"
        ).fetchall()}
    finally:
        con.close()
    assert loads["2025"] == builds["second"]["run_id"] != loads["2024"]
    assert waves == {"2024", "2025"}
