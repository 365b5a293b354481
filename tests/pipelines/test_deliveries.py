"""Deliveries through the real Dagster assets (ingestion + publish) into real snapshots: the same file twice,
a renamed copy, a corrected file, an ambiguous delivery, and budget lines superseded by year and governorate.

Expected counts are written here by hand from the files each test writes."""

from __future__ import annotations

import json
import os
import shutil
import stat
import textwrap
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets.ingest import budget_tables, survey_tables
from pipelines.assets.publish import published_snapshot
from pipelines.publish import Layout, current_snapshot, read_journal
from pipelines.resources import MizanPaths
from tests.pipelines.test_ingest_faults import BUDGET_MAPPING

MAPPING = textwrap.dedent("""
    source_id: s_waves
    domain: survey
    title: test survey with two waves
    format: csv
    encoding: utf-8
    delimiter: ","
    header_style: plain
    unit_of_analysis: household
    files:
      - {path: "wave_a*.csv", wave_id: "A"}
      - {path: "wave_b*.csv", wave_id: "B"}
    respondent_id: hh_id
    governorate: {column: governorate}
    stratum: {column: stratum}
    psu: {column: cluster}
    weight: {column: weight}
    weight_note: test
    design_note: test
    questions:
      water_service_rating: {column: water_rating, recode: {"1": excellent, "2": good, "3": adequate, "4": poor, "5": very_poor}}
""")
HEADER = "hh_id,governorate,stratum,cluster,weight,water_rating\n"


def rows(n: int, rating: str = "2", start: int = 1) -> str:
    return HEADER + "".join(f"h{i},Basra,s1,c{i % 3},1.5,{rating}\n" for i in range(start, start + n))


def source(root: Path) -> Path:
    folder = root / "surveys" / "s_waves"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "source.yaml").write_text(MAPPING, encoding="utf-8")
    return folder


def run(root: Path, warehouse: Path) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [survey_tables, budget_tables, published_snapshot],
        resources={"paths": MizanPaths(data_dir=str(root), warehouse=str(warehouse))},
        raise_on_error=False,
    )


def q(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_same_file_renamed_copy_and_corrected_file(tmp_path):
    root, wh = tmp_path / "landing", tmp_path / "wh" / "mizan.duckdb"
    folder = source(root)
    (folder / "wave_a.csv").write_text(rows(5), encoding="utf-8")
    (folder / "wave_b.csv").write_text(rows(4, "4", start=100), encoding="utf-8")

    # 1. first delivery: two files, nine respondents
    assert run(root, wh).success
    assert q(wh, "SELECT wave_id, count(*) FROM raw.survey_respondents GROUP BY 1 ORDER BY 1") == [("A", 5), ("B", 4)]
    assert q(wh, "SELECT file_name, unit, status FROM audit.file_registry ORDER BY 1") == [
        ("wave_a.csv", "A", "active"), ("wave_b.csv", "B", "active")]
    relative = Path(q(wh, "SELECT archive_path FROM audit.file_registry WHERE file_name = 'wave_a.csv'")[0][0])
    assert not relative.is_absolute()  # relative to the warehouse folder: a moved folder keeps its archive
    archived = wh.parent / relative
    assert archived.read_bytes() == (folder / "wave_a.csv").read_bytes()
    assert not archived.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)  # read-only
    assert archived.is_relative_to(wh.parent / "archive")

    # 2. the same files again: loaded once, nothing changes but the delivery record
    assert run(root, wh).success
    assert q(wh, "SELECT count(*) FROM raw.survey_respondents") == [(9,)]
    assert q(wh, "SELECT count(*) FROM audit.file_registry") == [(2,)]
    last = q(wh, "SELECT run_id FROM audit.snapshot")[0][0]
    assert sorted(q(wh, f"SELECT file_name, outcome FROM audit.file_deliveries WHERE run_id = '{last}'")) == [
        ("wave_a.csv", "unchanged: already registered"), ("wave_b.csv", "unchanged: already registered")]

    # 3. a renamed copy of wave A next to the original: registered once, loaded once
    shutil.copy(folder / "wave_a.csv", folder / "wave_a (copy).csv")
    assert run(root, wh).success
    assert q(wh, "SELECT count(*) FROM raw.survey_respondents") == [(9,)]
    assert q(wh, "SELECT count(*) FROM audit.file_registry") == [(2,)]
    last = q(wh, "SELECT run_id FROM audit.snapshot")[0][0]
    copy_outcome = q(wh, f"SELECT outcome FROM audit.file_deliveries WHERE run_id = '{last}' AND file_name = 'wave_a (copy).csv'")
    assert copy_outcome[0][0].startswith("same content as wave_a.csv")

    # 4. a corrected wave A (6 respondents, ratings fixed) replaces the original, which stays in the folder
    old_sha = q(wh, "SELECT file_sha256 FROM audit.file_registry WHERE file_name = 'wave_a.csv'")[0][0]
    (folder / "wave_a_corrected.csv").write_text(rows(6, "1"), encoding="utf-8")
    assert run(root, wh).success
    new_sha = q(wh, "SELECT file_sha256 FROM audit.file_registry WHERE file_name = 'wave_a_corrected.csv'")[0][0]
    assert q(wh, "SELECT wave_id, count(*) FROM raw.survey_respondents GROUP BY 1 ORDER BY 1") == [("A", 6), ("B", 4)]
    assert q(wh, "SELECT DISTINCT file_sha256 FROM raw.survey_respondents WHERE wave_id = 'A'") == [(new_sha,)]
    assert q(wh, "SELECT DISTINCT answer_code FROM raw.survey_answers WHERE wave_id = 'A'") == [("excellent",)]
    assert q(wh, "SELECT file_name, status, superseded_by FROM audit.file_registry ORDER BY registered_seq") == [
        ("wave_a.csv", "superseded", new_sha), ("wave_b.csv", "active", None), ("wave_a_corrected.csv", "active", None)]
    # the run log records both hashes: the new file and the one it supersedes
    record = [j for j in read_journal(wh) if j["status"] == "published"][-1]
    files = {f["file_sha256"]: f for f in json.loads(record["files_json"])}
    assert files[new_sha]["supersedes_sha256"] == old_sha and old_sha in files
    logged = json.loads(q(wh, f"SELECT files_json FROM audit.run_log WHERE run_id = '{record['run_id']}'")[0][0])
    assert {f["file_sha256"] for f in logged} >= {old_sha, new_sha}

    # 5. the landing folder is cleaned up: the archive keeps every row (nothing is lost)
    shutil.rmtree(root / "surveys")
    (root / "surveys").mkdir()
    assert run(root, wh).success
    assert q(wh, "SELECT wave_id, count(*) FROM raw.survey_respondents GROUP BY 1 ORDER BY 1") == [("A", 6), ("B", 4)]


def test_two_new_files_for_one_wave_stop_the_run_and_publish_nothing(tmp_path):
    root, wh = tmp_path / "landing", tmp_path / "wh" / "mizan.duckdb"
    folder = source(root)
    (folder / "wave_a_firm1.csv").write_text(rows(3), encoding="utf-8")
    (folder / "wave_a_firm2.csv").write_text(rows(3, "5"), encoding="utf-8")
    result = run(root, wh)
    assert not result.success
    msg = " ".join(e.step_failure_data.user_failure_data.description for e in result.all_events
                   if e.event_type_value == "STEP_FAILURE" and e.step_failure_data.user_failure_data)
    assert "wave_a_firm1.csv" in msg and "wave_a_firm2.csv" in msg and "'A'" in msg
    assert current_snapshot(wh) is None  # nothing published
    assert [j["status"] for j in read_journal(wh)] == ["failed"]
    assert list(Layout.of(wh).building_dir.iterdir()) == []  # the working file is gone


BUDGET = BUDGET_MAPPING.replace("source_id: b_test", "source_id: b_years")


@pytest.mark.parametrize("per_governorate", [False, True])
def test_corrected_budget_file_supersedes_its_fiscal_years(tmp_path, per_governorate):
    root, wh = tmp_path / "landing", tmp_path / "wh" / "mizan.duckdb"
    folder = root / "budget" / "b_years"
    folder.mkdir(parents=True)
    mapping = BUDGET + ("supersede_by: fiscal_year_governorate\n" if per_governorate else "")
    (folder / "source.yaml").write_text(mapping, encoding="utf-8")
    (folder / "budget_2023_2024.csv").write_text(
        "gov,year,allocation,spent\nBasra,2023,100,50\nBasra,2024,110,60\nAnbar,2024,20,10\n", encoding="utf-8")
    assert run(root, wh).success
    (folder / "budget_2024_revised.csv").write_text("gov,year,allocation,spent\nBasra,2024,120,90\n", encoding="utf-8")
    assert run(root, wh).success
    lines = q(wh, "SELECT governorate_pcode, fiscal_year, allocation_original, file_name FROM raw.budget_lines ORDER BY 1, 2")
    anbar = [("IQG01", 2024, 20.0, "budget_2023_2024.csv")] if per_governorate else []  # per year: the revision drops it
    assert lines == [
        *anbar,
        ("IQG02", 2023, 100.0, "budget_2023_2024.csv"),     # Basra 2023: not in the revision, kept
        ("IQG02", 2024, 120.0, "budget_2024_revised.csv"),  # Basra 2024: the revision wins
    ]
    assert q(wh, "SELECT file_name, status, rows_read, rows_loaded, rows_superseded FROM audit.file_registry ORDER BY registered_seq") == [
        ("budget_2023_2024.csv", "partly superseded", 3, 3, 1 if per_governorate else 2),
        ("budget_2024_revised.csv", "active", 1, 1, 0)]


def test_snapshot_files_are_read_only_and_the_pointer_moves(tmp_path):
    root, wh = tmp_path / "landing", tmp_path / "wh" / "mizan.duckdb"
    (source(root) / "wave_a.csv").write_text(rows(3), encoding="utf-8")
    assert run(root, wh).success
    first = current_snapshot(wh)
    assert wh.is_symlink() and first.name == "mizan.duckdb" and first.parent.parent == Layout.of(wh).snapshots_dir
    assert not os.access(first, os.W_OK) or os.geteuid() == 0  # root ignores modes; check the bits instead
    assert not first.stat().st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    assert run(root, wh).success
    second = current_snapshot(wh)
    assert second != first and first.is_file()  # the previous snapshot is kept (default: last 5)
