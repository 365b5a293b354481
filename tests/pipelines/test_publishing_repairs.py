"""What a writer does when the warehouse folder is not as it left it: a deleted pointer or snapshot, a plain
DuckDB file from before snapshots (or not a mizan file at all), a moved folder, a lost archive; and delivery
edge cases (the old file still in the folder, a wave renamed in the mapping). Real assets, real files."""

from __future__ import annotations

import os
import shutil
import threading

import dagster as dg
import duckdb
import pytest

from pipelines.publish import (
    Layout, WarehouseDamaged, current_snapshot, list_snapshots, read_journal, snapshot_meta, verify_snapshot, writer_lock,
)
from pipelines.resources import MizanPaths
from pipelines.sensors import landing_folder_sensor
from tests.pipelines.test_deliveries import q, rows, run, source


def loaded(tmp_path, n_runs: int = 1):
    root, wh = tmp_path / "landing", tmp_path / "wh" / "mizan.duckdb"
    folder = source(root)
    (folder / "wave_a.csv").write_text(rows(5), encoding="utf-8")
    for _ in range(n_runs):
        assert run(root, wh).success
    return root, wh, folder


def test_a_deleted_pointer_is_restored_to_the_newest_intact_snapshot(tmp_path):
    root, wh, folder = loaded(tmp_path, n_runs=2)
    newest = current_snapshot(wh)
    wh.unlink()  # someone deletes the symlink
    assert current_snapshot(wh) is None
    assert run(root, wh).success
    # the run started from the newest snapshot: the registry and its history survived
    assert q(wh, "SELECT outcome FROM audit.file_deliveries WHERE run_id = (SELECT run_id FROM audit.snapshot)") == [
        ("unchanged: already registered",)]
    repair = [j for j in read_journal(wh) if j["kind"] == "repair"]
    assert len(repair) == 1 and str(newest) in repair[0]["message"]


def test_a_damaged_newest_snapshot_is_skipped_when_restoring(tmp_path):
    root, wh, folder = loaded(tmp_path, n_runs=2)
    older, newest = list_snapshots(wh)
    shutil.rmtree(newest.parent)  # the current snapshot's folder deleted by hand: the pointer dangles
    assert current_snapshot(wh) is None
    assert run(root, wh).success
    assert any(str(older) in j["message"] for j in read_journal(wh) if j["kind"] == "repair")


def test_every_snapshot_gone_stops_the_run_instead_of_starting_empty(tmp_path):
    root, wh, folder = loaded(tmp_path)
    shutil.rmtree(Layout.of(wh).snapshots_dir)
    result = run(root, wh)
    assert not result.success
    assert current_snapshot(wh) is None and not Layout.of(wh).snapshots_dir.exists()
    with writer_lock(Layout.of(wh), "test"), pytest.raises(WarehouseDamaged, match="would lose the file registry"):
        from pipelines.publish import ensure_current

        ensure_current(Layout.of(wh))


def test_a_plain_duckdb_file_that_is_not_a_mizan_warehouse_is_left_untouched(tmp_path):
    root = tmp_path / "landing"
    (source(root) / "wave_a.csv").write_text(rows(3), encoding="utf-8")
    precious = tmp_path / "precious.duckdb"
    with duckdb.connect(str(precious)) as con:
        con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    before = precious.read_bytes()
    assert not run(root, precious).success
    assert precious.is_file() and not precious.is_symlink() and precious.read_bytes() == before


def test_a_plain_mizan_warehouse_with_a_write_ahead_log_is_adopted_without_losing_rows(tmp_path):
    root, wh, folder = loaded(tmp_path)
    plain = tmp_path / "old" / "mizan.duckdb"
    plain.parent.mkdir()
    shutil.copyfile(current_snapshot(wh), plain)
    os.chmod(plain, 0o644)
    # rows written but only in the write-ahead log (the process died before a checkpoint)
    script = (
        "import duckdb, os; con = duckdb.connect(r'%s'); con.execute(\"SET checkpoint_threshold = '10GB'\"); "
        "con.execute(\"INSERT INTO audit.source_notes VALUES ('x', 'survey', 'legacy', 'f', 'only in the WAL')\"); "
        "os._exit(0)" % plain
    )
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", script], check=True)
    assert plain.with_name("mizan.duckdb.wal").exists()
    assert run(root, plain).success
    assert plain.is_symlink()
    adopted = [s for s in list_snapshots(plain) if snapshot_meta(s).get("kind") == "adopted"]
    assert len(adopted) == 1 and verify_snapshot(adopted[0])
    assert q(adopted[0], "SELECT note FROM audit.source_notes WHERE source_id = 'legacy'") == [("only in the WAL",)]
    assert not plain.with_name("mizan.duckdb.wal").exists()


def test_a_moved_warehouse_folder_reads_its_own_archive_and_a_lost_archive_is_rebuilt(tmp_path):
    root, wh, folder = loaded(tmp_path)
    moved = tmp_path / "moved"
    shutil.move(str(wh.parent), str(moved))
    wh2 = moved / "mizan.duckdb"
    shutil.rmtree(root / "surveys")  # the landing folder is cleaned: only the archive has the file
    (root / "surveys").mkdir()
    assert run(root, wh2).success
    assert q(wh2, "SELECT count(*) FROM raw.survey_respondents") == [(5,)]
    # the archive is lost too, but the file is delivered again: it is archived anew
    shutil.rmtree(moved / "archive")
    (source(root) / "wave_a.csv").write_text(rows(5), encoding="utf-8")
    assert run(root, wh2).success
    assert q(wh2, "SELECT count(*) FROM raw.survey_respondents") == [(5,)]
    assert (moved / q(wh2, "SELECT archive_path FROM audit.file_registry")[0][0]).is_file()


def test_the_old_file_left_in_the_folder_is_reported_superseded_not_unchanged(tmp_path):
    root, wh, folder = loaded(tmp_path)
    shutil.copy(folder / "wave_a.csv", folder / "wave_a_copy.csv")
    (folder / "wave_a_v2.csv").write_text(rows(7), encoding="utf-8")
    assert run(root, wh).success
    outcomes = dict(q(wh, "SELECT file_name, outcome FROM audit.file_deliveries WHERE run_id = (SELECT run_id FROM audit.snapshot)"))
    assert outcomes["wave_a.csv"].startswith("superseded now by wave_a_v2.csv")
    assert outcomes["wave_a_copy.csv"].startswith("superseded now by wave_a_v2.csv")
    assert outcomes["wave_a_v2.csv"].startswith("new, corrects an earlier delivery: supersedes wave_a.csv")


def test_a_wave_renamed_in_the_mapping_follows_the_mapping(tmp_path):
    root, wh, folder = loaded(tmp_path)
    mapping = (folder / "source.yaml").read_text()
    (folder / "source.yaml").write_text(mapping.replace('wave_id: "A"', 'wave_id: "2025-Q1"'))
    assert run(root, wh).success
    assert q(wh, "SELECT DISTINCT wave_id FROM raw.survey_respondents") == [("2025-Q1",)]
    assert q(wh, "SELECT unit FROM audit.file_registry") == [("2025-Q1",)]
    (folder / "wave_a_fix.csv").write_text(rows(6), encoding="utf-8")  # a correction still supersedes
    assert run(root, wh).success
    assert q(wh, "SELECT count(*) FROM raw.survey_respondents") == [(6,)]


def test_a_sensor_tick_takes_no_lock_and_makes_no_working_copy(tmp_path):
    root, wh, folder = loaded(tmp_path)
    layout = Layout.of(wh)
    held, release = threading.Event(), threading.Event()

    def writer() -> None:  # another run holds the writer lock for the whole tick
        with writer_lock(layout, "someone-else"):
            held.set()
            release.wait(30)

    t = threading.Thread(target=writer)
    t.start()
    held.wait(10)
    try:
        with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(),
                                     resources={"paths": MizanPaths(data_dir=str(root), warehouse=str(wh))}) as ctx:
            result = landing_folder_sensor(ctx)
    finally:
        release.set()
        t.join()
    assert result.run_requests == []  # everything is loaded already
    assert list(layout.building_dir.iterdir()) == []


def test_a_restore_names_what_the_deleted_snapshot_held_and_approve_restores_too(tmp_path):
    from pipelines.status import approve_wave, warehouse_status

    root, wh, folder = loaded(tmp_path)
    approve_wave(wh, "s_waves", "A", "lead")
    shutil.rmtree(current_snapshot(wh).parent)  # the approval's snapshot is deleted by hand
    status = warehouse_status(wh)
    assert "names no snapshot" in status["problem"] and status["runs_since_snapshot"] == []
    meta = approve_wave(wh, "s_waves", "A", "lead", "given again")  # a writer: restores the pointer first
    repair = [j for j in read_journal(wh) if j["kind"] == "repair"][-1]
    assert "LOST" in repair["message"] and "approval" in repair["message"] and "lead approved s_waves / A" in repair["message"]
    assert {w["wave_id"]: w["approval_status"] for w in warehouse_status(wh)["waves"]} == {"A": "approved"}
    assert meta["record"]["kind"] == "approval"
    shutil.rmtree(Layout.of(wh).snapshots_dir)
    assert "runs will refuse to start empty" in warehouse_status(wh)["problem"]


def test_a_data_file_the_mapping_does_not_name_is_reported_not_ignored(tmp_path):
    from pipelines.ingest.registry import wave_of

    root, wh, folder = loaded(tmp_path)
    (folder / "export_corrected.csv").write_text(rows(5, "1"), encoding="utf-8")  # no files: pattern matches it
    (folder / "report.pdf").write_bytes(b"%PDF")  # not a data file: not reported
    assert run(root, wh).success
    outcomes = dict(q(wh, "SELECT file_name, outcome FROM audit.file_deliveries WHERE run_id = (SELECT run_id FROM audit.snapshot)"))
    assert outcomes["export_corrected.csv"].startswith("matches no files: entry of the mapping")
    assert "report.pdf" not in outcomes and "source.yaml" not in outcomes
    assert wave_of([("a*.csv", "1"), ("b*.csv", "2")])(folder / "c.csv") is None  # never a guessed wave


def test_the_sensor_skips_with_a_reason_when_the_landing_folder_is_missing(tmp_path):
    with dg.build_sensor_context(instance=dg.DagsterInstance.ephemeral(), resources={
            "paths": MizanPaths(data_dir=str(tmp_path / "nowhere"), warehouse=str(tmp_path / "wh" / "mizan.duckdb"))}) as ctx:
        result = landing_folder_sensor(ctx)
    assert isinstance(result, dg.SkipReason) and "does not exist" in result.skip_message
