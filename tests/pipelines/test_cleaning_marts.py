"""A reviewed cleaning log dropped beside the real Tal Afar export, through the whole pipeline (Dagster,
DuckDB, dbt, publish): the published estimate equals the clean data's mean computed by hand from the raw
file; dim_wave names the log's SHA-256; the Data quality page lists the changes; and removing the log gives
back the original marts."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import math
import shutil
import statistics
import sys
from pathlib import Path

import duckdb
from streamlit.testing.v1 import AppTest

from pipelines.users import UserStore
from tests.dashboards.signed_in import TEST_USERS, sign_in

from pipelines import publish as pub
from pipelines.cli import run_pipeline

SOURCE = "talafar_water_2021"
MARTS_SQL = """
    SELECT indicator_id, wave_id, governorate_pcode, disaggregation, disaggregation_value, estimate, std_error,
           n_unweighted
    FROM marts.fct_service_indicators WHERE source_id = 'talafar_water_2021' ORDER BY ALL"""


def _query(warehouse: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(pub.current_snapshot(warehouse)), read_only=True) as con:
        return con.execute(sql).fetchall()


def _data_quality_page(warehouse: Path, monkeypatch) -> AppTest:
    app = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"
    monkeypatch.setattr(sys, "argv", [str(app)])
    monkeypatch.setenv("MIZAN_WAREHOUSE", str(warehouse))
    users = warehouse.parent / "test.users.sqlite"  # an engineer signed in: the page needs the quality permission
    if not users.exists():
        UserStore(users).add(*TEST_USERS["engineer"][:1], "engineer", TEST_USERS["engineer"][1])
    monkeypatch.setenv("MIZAN_USERS", str(users))
    at = sign_in(AppTest.from_file(str(app), default_timeout=120), "engineer")
    at.run()
    at.switch_page("views/data_quality.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_reviewed_log_gives_the_clean_estimates_and_removing_it_the_original(shared_data, real_warehouse, tmp_path,
                                                                               monkeypatch):
    folder = tmp_path / "in" / "surveys" / SOURCE
    folder.mkdir(parents=True)
    for name in ("export.csv", "xlsform.xlsx", "sample_frame.csv"):
        shutil.copyfile(shared_data / "surveys" / SOURCE / name, folder / name)
    warehouse = tmp_path / "wh" / "mizan.duckdb"
    original = _query(real_warehouse, MARTS_SQL)  # the session's run on the real data, without a log
    assert original

    # the reviewer's decisions: remove the interviews shorter than 25 minutes, correct one household's hours
    with (folder / "export.csv").open(encoding="utf-8", newline="") as f:
        raw = list(csv.DictReader(f))
    minutes = {r["X_uuid"]: (dt.datetime.fromisoformat(r["end"]) - dt.datetime.fromisoformat(r["X.U.FEFF.start"]))
               .total_seconds() / 60 for r in raw}
    short = sorted(u for u, m in minutes.items() if m < 25)
    fixed = next(r for r in raw if r["hours_available_piped"] == "7" and r["X_uuid"] not in short)
    log = "uuid,question,issue,old_value,change_type,new_value\n" + "".join(
        f"{u},,interview shorter than 25 minutes,,remove_survey,\n" for u in short) + (
        f"{fixed['X_uuid']},hours_available_piped,typo confirmed by the field team,7,change_response,17\n")
    (folder / "cleaning_log.csv").write_text(log, encoding="utf-8")
    run_pipeline(tmp_path / "in", warehouse)

    # by hand: the mean of the reported hours (0-24) of the households left, with the corrected value
    hours = [17.0 if r is fixed else float(r["hours_available_piped"]) for r in raw
             if r["X_uuid"] not in short and r["hours_available_piped"] not in ("", "NA")]
    cleaned = _query(warehouse, "SELECT estimate, n_unweighted FROM marts.fct_service_indicators WHERE source_id = "
                                f"'{SOURCE}' AND indicator_id = 'water_piped_hours_mean' AND disaggregation = 'all'")
    assert len(cleaned) == 1
    assert abs(cleaned[0][0] - statistics.fmean(hours)) < 1e-12 and cleaned[0][1] == len(hours)
    sha = hashlib.sha256(log.encode()).hexdigest()
    assert _query(warehouse, f"SELECT cleaning_log_sha256s FROM marts.dim_wave WHERE source_id = '{SOURCE}'") == [(sha,)]
    assert _query(warehouse, "SELECT count(*) FILTER (WHERE change_type = 'remove_survey'), count(*) "
                             "FROM audit.cleaning_changes") == [(len(short), len(short) + 1)]
    at = _data_quality_page(warehouse, monkeypatch)
    assert "Cleaning log changes" in [s.value for s in at.subheader]
    assert [m.value for m in at.metric if m.label in ("Values changed", "Interviews removed")] == ["1", str(len(short))]

    (folder / "cleaning_log.csv").unlink()
    run_pipeline(tmp_path / "in", warehouse)
    restored = _query(warehouse, MARTS_SQL)
    # the same cells and numbers; a float may differ in its last bit (the wave is rebuilt incrementally, and
    # a sum over its respondents can run in another order than in the first, full build)
    assert len(restored) == len(original)
    for new, old in zip(restored, original):
        assert [type(v) for v in new] == [type(v) for v in old]
        assert all(math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) if isinstance(a, float) else a == b
                   for a, b in zip(new, old)), (new, old)
    assert _query(warehouse, f"SELECT cleaning_log_sha256s FROM marts.dim_wave WHERE source_id = '{SOURCE}'") == [(None,)]
